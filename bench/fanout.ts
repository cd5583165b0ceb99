import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { type RedisKeys, redisKeys } from '../server/engine/redis-keys.js'
import { startRedis } from '../tests/helpers/redis-server.js'
import { alternate } from './lib/ab.js'
import { assetsOfClient } from './lib/bench-quote.js'
import { type Child, ROOT, sleep, startChild } from './lib/children.js'
import { type BenchContext, NotReady, withTempDir } from './lib/context.js'
import { benchAssetIds, startPricewire, writeBenchRegistry } from './lib/pricewire.js'
import { addCpu, CpuWindow, readProc } from './lib/proc.js'
import type { Figure } from './lib/report.js'
import { type HistogramData, LatencyHistogram, median, medianRatio } from './lib/stats.js'

/**
 * Fan-out: N WebSocket clients, each subscribed to 10 of 20 assets, 20 updates per second in all,
 * published by a separate process on the Redis bus (the production multi-node path). The real
 * server vs a bare `ws` broadcast server (the limit) vs Socket.IO 4 (rooms), all three fed by the
 * same publisher on the same channel. Clients run in 2 child processes.
 */

type Contender = 'pricewire' | 'ws' | 'socketio'
const CONTENDERS: Contender[] = ['pricewire', 'ws', 'socketio']
const ASSET_COUNT = 20
const PER_CLIENT = 10
const RATE_PER_SEC = 20
/** The ingest leader lock (server/ingest/leader.ts): the publisher holds it so the server only relays. */
const LEADER_LOCK = 'poller'

interface ServerHandle {
  pid: number
  wsUrl: string
  stop(): Promise<void>
  notes: string[]
}

interface ClientReport {
  type: 'report'
  received: number[]
  histogram: HistogramData
  frames: number
  unexpectedCloses: number
  closeCodes: Record<string, number>
  errors: string[]
}

interface PublishResult {
  type: 'run-done'
  fromSeq: number
  toSeq: number
  perAsset: Record<string, number>
  published: number
  maxLagMs: number
  wallMs: number
}

export interface FanoutRun {
  clients: number
  connectFailed: number
  connectError: string
  connectMs: number
  published: number
  expected: number
  delivered: number
  deliveryRatio: number
  clientsShort: number
  messagesPerSec: number
  latency: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number }
  cpu: { server: number; clients: number; publisher: number }
  rssIdleMB: number
  rssLoadedMB: number
  rssPerConnKB: number
  unexpectedCloses: number
  closeCodes: Record<string, number>
  errors: string[]
  notes: string[]
}

export async function fanoutBench(ctx: BenchContext) {
  if (!existsSync(join(ROOT, 'server/push')))
    throw new NotReady('the WebSocket push (server/push/) is not there yet')
  const sizes = ctx.quick ? [200] : [2000, 5000]
  const rounds = ctx.quick ? 1 : 3
  const durationMs = ctx.quick ? 1_500 : 10_000
  const warmupMs = ctx.quick ? 500 : 2_000
  const assets = benchAssetIds(ASSET_COUNT)
  const prefix = 'benchfan:'
  const keys = redisKeys(prefix)

  const redis = await startRedis()
  const publisher = startChild({ name: 'publisher', entry: 'bench/clients/publisher.ts', ipc: true })
  try {
    return await withTempDir('pricewire-bench-fanout-', async (dir) => {
      const registry = writeBenchRegistry(dir, ASSET_COUNT)
      await publisher.next('ready')
      await publisher.request({ cmd: 'init', redisUrl: redis.url, channel: keys.bus, assets }, 'init-done')
      await publisher.request({ cmd: 'hold-lock', key: keys.lock(LEADER_LOCK), ttlMs: 60_000 }, 'lock-held')

      const start = (c: Contender): Promise<ServerHandle> =>
        c === 'pricewire' ? startOurs(ctx, redis.url, prefix, registry) : startBaseline(c, redis.url, keys)

      const bySize: Record<number, Record<Contender, FanoutRun[]>> = {}
      const figures: Figure[] = []
      for (const n of sizes) {
        ctx.log(`fanout: ${n} clients, ${rounds} round(s) × ${CONTENDERS.join(' / ')}`)
        const results = await alternate(CONTENDERS, rounds, async (c, r) => {
          const run = await runOne(c, n, { start, publisher, assets, durationMs, warmupMs })
          ctx.log(
            `fanout: ${n} round ${r + 1} ${c}: ${Math.round(run.messagesPerSec)} msg/s, delivery ${(run.deliveryRatio * 100).toFixed(2)} %, p99 ${run.latency.p99.toFixed(1)} ms, ${run.rssPerConnKB.toFixed(1)} KB/conn, server CPU ${Math.round(run.cpu.server)} %`,
          )
          return run
        })
        bySize[n] = results
        figures.push(...figuresFor(n, results))
      }
      return {
        figures,
        details: { sizes, rounds, durationMs, ratePerSec: RATE_PER_SEC, perClient: PER_CLIENT, runs: bySize },
      }
    })
  } finally {
    await publisher.stop()
    await redis.stop()
  }
}

function figuresFor(n: number, r: Record<Contender, FanoutRun[]>): Figure[] {
  const med = (c: Contender, f: (x: FanoutRun) => number) => median(r[c].map(f))
  const p99 = (c: Contender) => r[c].map((x) => x.latency.p99)
  const kb = (c: Contender) => r[c].map((x) => x.rssPerConnKB)
  const pre = `${n} clients:`
  const out: Figure[] = [
    {
      name: `${pre} pricewire delivery`,
      value: Math.min(...r.pricewire.map((x) => x.deliveryRatio * 100)),
      unit: '%',
      target: { op: '>=', value: 100 },
      note: 'worst round',
    },
    {
      name: `${pre} pricewire clients missing updates`,
      value: Math.max(...r.pricewire.map((x) => x.clientsShort + x.connectFailed)),
      unit: '',
      target: { op: '==', value: 0 },
    },
    {
      name: `${pre} pricewire p99 / ws p99`,
      value: medianRatio(p99('pricewire'), p99('ws')),
      unit: '×',
      target: { op: '<=', value: 1.25 },
    },
    {
      name: `${pre} pricewire RSS/conn / ws RSS/conn`,
      value: medianRatio(kb('pricewire'), kb('ws')),
      unit: '×',
      target: { op: '<=', value: 1.25 },
    },
    {
      name: `${pre} pricewire p99 / Socket.IO p99`,
      value: medianRatio(p99('pricewire'), p99('socketio')),
      unit: '×',
      target: { op: '<', value: 1 },
    },
    {
      name: `${pre} pricewire RSS/conn / Socket.IO RSS/conn`,
      value: medianRatio(kb('pricewire'), kb('socketio')),
      unit: '×',
      target: { op: '<', value: 1 },
    },
  ]
  for (const c of CONTENDERS) {
    out.push(
      {
        name: `${pre} ${c} delivered`,
        value: med(c, (x) => x.messagesPerSec),
        unit: 'msg/s',
        note: `delivery ${(med(c, (x) => x.deliveryRatio) * 100).toFixed(2)} %`,
      },
      {
        name: `${pre} ${c} latency p50 / p99`,
        value: med(c, (x) => x.latency.p99),
        unit: 'ms',
        note: `p50 ${med(c, (x) => x.latency.p50).toFixed(1)} ms`,
      },
      { name: `${pre} ${c} RSS per connection`, value: med(c, (x) => x.rssPerConnKB), unit: 'KB' },
      {
        name: `${pre} ${c} CPU server`,
        value: med(c, (x) => x.cpu.server),
        unit: '%',
        note: `clients ${Math.round(med(c, (x) => x.cpu.clients))} %, publisher ${med(c, (x) => x.cpu.publisher).toFixed(1)} %`,
      },
    )
  }
  return out
}

async function startOurs(
  ctx: BenchContext,
  redisUrl: string,
  prefix: string,
  registry: string,
): Promise<ServerHandle> {
  const s = await startPricewire({
    name: 'pricewire (fan-out)',
    profileDir: ctx.profileDir,
    raiseFileLimit: true,
    waitReady: true,
    env: {
      REDIS_URL: redisUrl,
      PRICEWIRE_REDIS_PREFIX: prefix,
      PRICEWIRE_SOURCES: 'simulated',
      PRICEWIRE_ASSETS_FILE: registry,
      PRICEWIRE_WS_MAX_PER_IP: '0',
      PRICEWIRE_RATE_LIMIT: '0',
    },
  })
  const notes: string[] = []
  const metrics = await fetch(`${s.url}/metrics`).then((r) => r.text())
  if (/^pricewire_leader 1$/m.test(metrics))
    notes.push(
      'the server took the ingest leader lock: its own simulated quotes were on the bus too (not counted)',
    )
  return { pid: s.child.pid, wsUrl: `${s.url.replace('http', 'ws')}/v1/stream`, stop: s.stop, notes }
}

async function startBaseline(c: 'ws' | 'socketio', redisUrl: string, keys: RedisKeys): Promise<ServerHandle> {
  const child = startChild({
    name: `${c} baseline server`,
    entry: c === 'ws' ? 'bench/servers/bare-ws.ts' : 'bench/servers/socketio.ts',
    args: [redisUrl, keys.bus],
    ipc: true,
    raiseFileLimit: true,
  })
  const { port } = await child.next<{ type: 'ready'; port: number }>('ready')
  return {
    pid: child.pid,
    wsUrl: c === 'ws' ? `ws://127.0.0.1:${port}/` : `http://127.0.0.1:${port}`,
    stop: () => child.stop(),
    notes: [],
  }
}

async function runOne(
  c: Contender,
  n: number,
  o: {
    start: (c: Contender) => Promise<ServerHandle>
    publisher: Child
    assets: string[]
    durationMs: number
    warmupMs: number
  },
): Promise<FanoutRun> {
  const server = await o.start(c)
  const clients: Child[] = []
  try {
    await sleep(1_000)
    const rssIdle = readProc(server.pid)?.rssBytes ?? 0
    const halves = [Math.ceil(n / 2), Math.floor(n / 2)]
    const shares = halves.map((count, k) => ({ count, firstIndex: k === 0 ? 0 : halves[0]! }))
    for (const [k] of shares.entries())
      clients.push(
        startChild({
          name: `subscribers ${k + 1}`,
          entry: 'bench/clients/subscribers.ts',
          ipc: true,
          raiseFileLimit: true,
        }),
      )
    await Promise.all(clients.map((ch) => ch.next('ready')))
    const connects = await Promise.all(
      clients.map((ch, k) =>
        ch.request<{ type: 'connected'; ok: number; failed: number; firstError: string; ms: number }>(
          {
            cmd: 'connect',
            kind: c,
            url: server.wsUrl,
            count: shares[k]!.count,
            firstIndex: shares[k]!.firstIndex,
            assets: o.assets,
            perClient: PER_CLIENT,
            concurrency: 50,
          },
          'connected',
          180_000,
        ),
      ),
    )
    await o.publisher.request(
      { cmd: 'run', ratePerSec: RATE_PER_SEC, durationMs: o.warmupMs },
      'run-done',
      o.warmupMs + 30_000,
    )
    await sleep(500)
    const { seq: fromSeq } = await o.publisher.request<{ type: 'next-seq'; seq: number }>(
      { cmd: 'next-seq' },
      'next-seq',
    )
    await Promise.all(clients.map((ch) => ch.request({ cmd: 'reset', fromSeq }, 'reset-done')))

    const cpu = new CpuWindow({
      server: server.pid,
      c1: clients[0]!.pid,
      c2: clients[1]!.pid,
      publisher: o.publisher.pid,
    })
    const rssSamples: number[] = []
    const sampler = setInterval(() => rssSamples.push(readProc(server.pid)?.rssBytes ?? 0), 500)
    const pub = await o.publisher.request<PublishResult>(
      { cmd: 'run', ratePerSec: RATE_PER_SEC, durationMs: o.durationMs },
      'run-done',
      o.durationMs + 60_000,
    )
    const used = cpu.stop()
    clearInterval(sampler)
    rssSamples.push(readProc(server.pid)?.rssBytes ?? 0)

    // Expected count per client: the updates published for the assets it is subscribed to.
    const expectedOf = (index: number) =>
      assetsOfClient(index, o.assets, PER_CLIENT).reduce((s, a) => s + (pub.perAsset[a] ?? 0), 0)
    const reports = await drain(clients, n, expectedOf)
    const hist = new LatencyHistogram()
    let delivered = 0
    let expected = 0
    let clientsShort = 0
    let index = 0
    for (const rep of reports) {
      hist.merge(rep.histogram)
      for (const got of rep.received) {
        const want = expectedOf(index++)
        expected += want
        delivered += Math.min(got, want)
        if (got < want) clientsShort++
      }
    }
    const connectFailed = connects.reduce((s, x) => s + x.failed, 0)
    const connected = n - connectFailed
    const rssLoaded = median(rssSamples)
    return {
      clients: n,
      connectFailed,
      connectError: connects.map((x) => x.firstError).find(Boolean) ?? '',
      connectMs: Math.max(...connects.map((x) => x.ms)),
      published: pub.published,
      expected,
      delivered,
      deliveryRatio: expected ? delivered / expected : 0,
      clientsShort,
      messagesPerSec: delivered / (o.durationMs / 1000),
      latency: {
        p50: hist.percentile(50),
        p90: hist.percentile(90),
        p99: hist.percentile(99),
        p999: hist.percentile(99.9),
        max: hist.max,
        mean: hist.mean(),
      },
      cpu: {
        server: used.server.pct,
        clients: addCpu([used.c1, used.c2]).pct,
        publisher: used.publisher.pct,
      },
      rssIdleMB: rssIdle / 2 ** 20,
      rssLoadedMB: rssLoaded / 2 ** 20,
      rssPerConnKB: connected > 0 ? (rssLoaded - rssIdle) / 1024 / connected : Number.NaN,
      unexpectedCloses: reports.reduce((s, x) => s + x.unexpectedCloses, 0),
      closeCodes: Object.assign({}, ...reports.map((x) => x.closeCodes)),
      errors: reports.flatMap((x) => x.errors),
      notes: server.notes,
    }
  } finally {
    await Promise.all(clients.map((ch) => ch.stop()))
    await server.stop()
  }
}

/** Waits until every client has all it should, or nothing more arrives for 1 s (at most 15 s). */
async function drain(
  clients: Child[],
  n: number,
  expectedOf: (i: number) => number,
): Promise<ClientReport[]> {
  let wanted = 0
  for (let i = 0; i < n; i++) wanted += expectedOf(i)
  const deadline = Date.now() + 15_000
  let last = -1
  let lastChange = Date.now()
  for (;;) {
    await sleep(250)
    const reports = await Promise.all(
      clients.map((ch) => ch.request<ClientReport>({ cmd: 'report' }, 'report')),
    )
    const got = reports.reduce((s, r) => s + r.received.reduce((a, b) => a + b, 0), 0)
    if (got !== last) {
      last = got
      lastChange = Date.now()
    }
    if (got >= wanted || Date.now() - lastChange >= 1_000 || Date.now() > deadline) return reports
  }
}
