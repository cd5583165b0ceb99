import { readFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClientMessage, ServerFrame } from '../../shared/protocol.js'
import { type PushApp, startPushApp } from '../helpers/push-app.js'
import { makeQuote, waitFor } from '../helpers/quotes.js'
import { StreamClient } from '../helpers/ws-client.js'
import { type Cluster, type ClusterNode, startCluster } from './cluster.js'
import { percentile, printFigure, sleep, watchProcessFaults } from './figures.js'
import { type LiveClient, openClients } from './live-client.js'

/**
 * Scenario 4: slow and hostile clients. A real server process (100 assets updated 10 times a second)
 * with 1,000 normal clients watching two assets each; then
 * 100 that watch every asset and never read (half of them also keep asking for 7-day history
 * snapshots). Then, in process:
 * a connection flood from one address, subscribe spam and 10,000 random and malformed frames.
 */

const NORMAL = 1_000
const NON_READERS = 100
const ASSETS = 100
const WINDOW_MS = 6_000

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : Number.NaN
}
async function metricsText(node: ClusterNode): Promise<string> {
  return (await fetch(`${node.proc.url}/metrics`)).text()
}
function metricOf(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1))
}
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`

describe('scenario 4a: 100 clients that never read beside 1,000 normal ones', { timeout: 150_000 }, () => {
  let cluster: Cluster
  let node: ClusterNode
  beforeAll(async () => {
    cluster = await startCluster({
      assets: ASSETS,
      env: {
        PRICEWIRE_POLL_MS: '100',
        PRICEWIRE_PUSH_MAX_PER_SEC: '10',
        PRICEWIRE_STALE_MS: '30000',
        // The heartbeat would cut non-readers too (1006); out of the way, so the slow-consumer rule shows.
        PRICEWIRE_WS_PING_MS: '120000',
      },
    })
    node = await cluster.startNode('hostile-1')
  }, 60_000)
  afterAll(async () => {
    await cluster?.close()
  })

  it('RSS stays bounded, non-readers are closed 4008, normal clients keep their p99', async () => {
    const normal = await openClients(node.proc.wsUrl, NORMAL, ['a0', 'a1'])
    await waitFor(() => normal.every((c) => c.quotes >= 3), 30_000, 100)
    await sleep(1_000)

    /**
     * Normal clients' latencies over a stretch, cut into one-second windows (each window's p99 is
     * kept: their median does not move when another test file briefly loads the machine), and the
     * server's peak RSS meanwhile.
     */
    const measure = async (until: () => boolean, minMs: number, maxMs: number) => {
      for (const c of normal) {
        c.latencies = []
        c.recordLatency = true
      }
      const windows: number[][] = []
      const started = Date.now()
      let windowAt = started
      let peak = 0
      while (Date.now() - started < maxMs && (Date.now() - started < minMs || !until())) {
        peak = Math.max(peak, rssOf(node.proc.pid))
        await sleep(100)
        if (Date.now() - windowAt >= 1_000) {
          windows.push(normal.flatMap((c) => c.latencies.splice(0)))
          windowAt = Date.now()
        }
      }
      windows.push(normal.flatMap((c) => c.latencies.splice(0)))
      for (const c of normal) c.recordLatency = false
      const p99s = windows.filter((w) => w.length >= 100).map((w) => percentile(w, 99))
      return { latencies: windows.flat(), p99: percentile(p99s, 50), peakRss: peak, ms: Date.now() - started }
    }

    const baseline = await measure(() => true, WINDOW_MS, WINDOW_MS)
    const rssBefore = rssOf(node.proc.pid)

    // Non-readers: subscribe to everything, then stop reading. Half also ask for 7-day history
    // snapshots twice a second (within the message rate limit), which are never conflated.
    const slow = await openClients(node.proc.wsUrl, NON_READERS, cluster.assets)
    const greedy: NodeJS.Timeout[] = []
    slow.forEach((c, i) => {
      ;(c.ws as unknown as { _socket: Socket })._socket.pause()
      c.ws.send(JSON.stringify({ op: 'subscribe', assets: cluster.assets, history: '7d' }))
      if (i % 2 === 0)
        greedy.push(
          setInterval(() => {
            if (c.ws.readyState === 1)
              c.ws.send(JSON.stringify({ op: 'subscribe', assets: cluster.assets, history: '7d' }))
          }, 500),
        )
    })
    // The server's count: a client that never reads never sees the close frame queued behind its data.
    const slowCloses = async () =>
      metricOf(await metricsText(node), 'pricewire_ws_slow_consumer_closes_total')
    const slowAt = Date.now()
    let closedAll = false
    let closedWithin = 0
    const watch = setInterval(async () => {
      if (closedAll) return
      if ((await slowCloses()) >= NON_READERS) {
        closedAll = true
        closedWithin = Date.now() - slowAt
      }
    }, 100)
    const withSlow = await measure(() => closedAll, WINDOW_MS, 40_000)
    clearInterval(watch)
    for (const t of greedy) clearInterval(t)
    const closes4008 = await slowCloses()
    for (const c of slow) c.ws.terminate()
    await sleep(500)
    const rssAfter = rssOf(node.proc.pid)
    // The baseline again, now that they are gone: the comparison takes the worse of the two.
    const after = await measure(() => true, WINDOW_MS, WINDOW_MS)

    const p99Base = Math.max(baseline.p99, after.p99)
    const p99Slow = withSlow.p99
    const normalDisconnects = normal.filter((c) => !c.isOpen).length
    const faults = cluster.faults([node])
    printFigure(
      'hostile-clients',
      `${NORMAL} normal + ${NON_READERS} non-reading clients: server RSS ${mb(rssBefore)} before, peak ${mb(withSlow.peakRss)} ` +
        `(baseline peak ${mb(baseline.peakRss)}), ${mb(rssAfter)} after; ${closes4008} non-readers closed ` +
        `4008 by the server within ${closedWithin || '>40000'} ms; ` +
        `normal clients' p99 (median of 1-s windows) ${p99Base} ms alone vs ${p99Slow} ms beside them; overall p99 ` +
        `${percentile([...baseline.latencies, ...after.latencies], 99)} vs ${percentile(withSlow.latencies, 99)} ms, p50 ` +
        `${percentile(baseline.latencies, 50)} vs ${percentile(withSlow.latencies, 50)} ms (${baseline.latencies.length + after.latencies.length} / ` +
        `${withSlow.latencies.length} samples); ${normalDisconnects} normal disconnects`,
    )
    expect(closes4008).toBe(NON_READERS)
    // Bounded: each non-reader may hold at most the hard limit (1 MiB) plus one snapshot in flight.
    expect(withSlow.peakRss - rssBefore).toBeLessThan(NON_READERS * 1.5 * 1024 * 1024)
    expect(p99Slow).toBeLessThanOrEqual(Math.max(1.5 * p99Base, p99Base + 50))
    expect(normalDisconnects).toBe(0)
    expect(normal.flatMap((c) => c.badPrices)).toEqual([])
    expect(normal.reduce((n, c) => n + c.seqWentBack, 0)).toBe(0)
    expect(faults).toEqual([])
    for (const c of normal as LiveClient[]) c.ws.terminate()
  })
})

describe('scenario 4b: floods, spam and malformed frames', { timeout: 120_000 }, () => {
  let s: PushApp
  const watcher = watchProcessFaults()
  beforeAll(async () => {
    s = await startPushApp({ vars: { PRICEWIRE_WS_MAX_PER_IP: '20', PRICEWIRE_RATE_LIMIT: '0' } })
    await s.quoteEveryAsset()
  })
  afterAll(async () => {
    await s?.close()
    watcher.dispose()
  })

  it('a connection flood from one address: the per-address limit holds, 4029 beyond it', async () => {
    const tries = 300
    const clients = await Promise.all(Array.from({ length: tries }, () => StreamClient.open(s.wsUrl)))
    await sleep(500)
    const refused = clients.filter((c) => !c.isOpen)
    const codes = new Set(await Promise.all(refused.map((c) => c.closed.then((x) => x.code))))
    const open = clients.filter((c) => c.isOpen)
    // The ones kept still work.
    const snap = await open[0]!.subscribe(['btc'])
    printFigure(
      'hostile-clients',
      `connection flood: ${tries} sockets from one address, ${open.length} kept (limit 20), ${refused.length} closed ${[...codes].join('/')}`,
    )
    expect(open).toHaveLength(20)
    expect([...codes]).toEqual([4029])
    expect(snap.quotes.map((q) => q.asset)).toEqual(['btc'])
    expect(await s.metric('pricewire_ws_connections')).toBe(20)
    for (const c of clients) c.terminate()
    await waitFor(async () => (await s.metric('pricewire_ws_connections')) === 0)
  })

  it('subscribe spam: rate-limited with error frames, then closed 1008; other clients unaffected', async () => {
    const bystander = await StreamClient.open(s.wsUrl)
    await bystander.subscribe(['eth'])
    const spammer = await StreamClient.open(s.wsUrl)
    for (let i = 0; i < 2_000 && spammer.isOpen; i++)
      spammer.send({ op: 'subscribe', assets: ['btc', 'eth', 'pol'], history: '24h' })
    const closed = await spammer.closed
    const types = new Set(spammer.frames.map((f) => f.type))
    const errors = spammer.frames.filter((f) => f.type === 'error').map((f) => f.code)
    await s.publish([makeQuote('eth', { seq: 2, price: 2 })])
    const update = await bystander.next('quotes')
    printFigure(
      'hostile-clients',
      `subscribe spam: ${spammer.frames.length} frames back (${[...types].join(', ')}; ${errors.length} errors, all rate_limited), closed ${closed.code}`,
    )
    expect(closed).toEqual({ code: 1008, reason: 'too many invalid frames' })
    expect([...types].every((t) => t === 'error' || t === 'snapshot')).toBe(true)
    expect(new Set(errors)).toEqual(new Set(['rate_limited']))
    expect(update.quotes[0]!.seq).toBe(2)
    bystander.terminate()
  })

  it('10,000 random and malformed frames: only error frames (or the valid answers), no crash, no close', async () => {
    // Limits raised on a stream-only app, so one connection takes every frame and answers each.
    const fuzz = await startPushApp({
      limits: { maxBadFrames: 1e9, messagesPerSec: 1e9, messageBurst: 1e9 },
    })
    try {
      await fuzz.publish([makeQuote('btc', { seq: 1 })])
      const names = fc.oneof(
        fc.constantFrom('btc', 'eth', 'pol', 'US', 'nope', ''),
        fc.string({ maxLength: 70 }),
      )
      const frame = fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({ maxLength: 50, unit: 'binary' }),
        fc.json({ maxDepth: 3 }),
        fc
          .record({
            op: fc.constantFrom('subscribe', 'unsubscribe', 'ping', 'SUBSCRIBE', '', 'x'.repeat(100)),
            assets: fc.oneof(fc.array(names, { maxLength: 120 }), fc.anything()),
            history: fc.oneof(fc.constantFrom('24h', '7d', '1y', undefined), fc.anything()),
          })
          .map((m) => JSON.stringify(m)),
        fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
        fc.constantFrom(
          '{"op":"subscribe","assets":["btc"]'.padEnd(5_000, ' '),
          'null',
          '[]',
          '{}',
          '"op"',
          '1e999',
        ),
      )
      const frames = fc.sample(frame, { numRuns: 10_000, seed: 20261128 })
      const c = await StreamClient.open(fuzz.wsUrl)
      let invalid = 0
      for (let i = 0; i < frames.length; i += 500) {
        for (const f of frames.slice(i, i + 500)) {
          if (Buffer.isBuffer(f)) invalid++
          else {
            let ok = false
            try {
              ok = f.length <= 4096 && ClientMessage.safeParse(JSON.parse(f)).success
            } catch {}
            if (!ok) invalid++
          }
          c.ws.send(f, { binary: Buffer.isBuffer(f) })
        }
        // A marker only this point can answer: an unknown asset named after the chunk.
        const marker = `sync-${i}`
        c.send({ op: 'subscribe', assets: [marker] })
        await waitFor(() => c.frames.some((x) => x.type === 'error' && x.assets?.[0] === marker), 20_000, 10)
      }
      const bad = c.frames.filter((f) => !ServerFrame.safeParse(f).success)
      const types = new Map<string, number>()
      for (const f of c.frames) types.set(f.type, (types.get(f.type) ?? 0) + 1)
      const errors = (types.get('error') ?? 0) - frames.length / 500
      printFigure(
        'hostile-clients',
        `${frames.length} random/malformed frames (${invalid} invalid): ${c.frames.length} answers ` +
          `(${[...types].map(([t, n]) => `${n} ${t}`).join(', ')}), ${bad.length} off-protocol, connection open: ${c.isOpen}, ` +
          `process faults ${watcher.faults.length}`,
      )
      expect(bad).toEqual([])
      expect([...types.keys()].every((t) => ['error', 'snapshot', 'pong', 'quotes'].includes(t))).toBe(true)
      expect(errors).toBeGreaterThanOrEqual(invalid)
      expect(c.isOpen).toBe(true)
      expect(watcher.faults).toEqual([])
      // The server still serves a new client normally.
      const after = await StreamClient.open(fuzz.wsUrl)
      expect((await after.subscribe(['btc'])).quotes[0]!.asset).toBe('btc')
      c.terminate()
      after.terminate()
    } finally {
      await fuzz.close()
    }
  })
})
