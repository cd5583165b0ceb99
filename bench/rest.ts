import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { alternate } from './lib/ab.js'
import { ROOT, startChild } from './lib/children.js'
import { type BenchContext, NotReady, withTempDir } from './lib/context.js'
import { benchAssetIds, startPricewire, writeBenchRegistry } from './lib/pricewire.js'
import { type CpuUse, CpuWindow, pinToCpus } from './lib/proc.js'
import type { Figure } from './lib/report.js'
import { median, medianRatio, ratios } from './lib/stats.js'

/**
 * REST: GET /v1/quotes?assets=<10 ids> on the real server vs a bare Fastify route sending the same
 * bytes pre-serialised (the ceiling), and a bare route serialising an object per request.
 * Each side runs in its own process; autocannon runs in a third. With two or more CPUs the servers
 * are pinned to CPU 0 and autocannon to CPU 1, so the load generator does not take the server's
 * time (on a 2-core machine it otherwise uses 60-90 % of a core beside it). The rate limit is off for the run
 * (PRICEWIRE_RATE_LIMIT=0): 100 connections from one address would otherwise be answered 429 after
 * 600 requests; CORS, load shedding, metrics and validation stay on.
 */

type Contender = 'pricewire' | 'bare-preserialised' | 'bare-serialising'
const CONTENDERS: Contender[] = ['pricewire', 'bare-preserialised', 'bare-serialising']

interface AutocannonResult {
  type: 'result'
  requests: number
  rps: number
  latency: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number }
  bytesPerSec: number
  errors: number
  timeouts: number
  non2xx: number
  selfCpuPct: number
}

interface RunResult extends Omit<AutocannonResult, 'type'> {
  serverCpu: CpuUse
  loadgenCpu: CpuUse
}

export async function restBench(ctx: BenchContext) {
  if (!existsSync(join(ROOT, 'server/api/quotes.ts')))
    throw new NotReady('the REST API (server/api/quotes.ts) is not there yet')
  // Many short alternating rounds: this machine's speed moves by 10-20 % in phases of about ten
  // seconds (a bare server alone shows it), so contenders compared in the same phase, many times
  // over, give a steadier median ratio than a few long rounds.
  const rounds = ctx.quick ? 2 : 24
  const durationSec = ctx.quick ? 1 : 1.5
  const warmupSec = ctx.quick ? 1 : 5
  const connections = 100
  const assets = benchAssetIds(10)
  const query = `assets=${assets.join(',')}`

  return withTempDir('pricewire-bench-rest-', async (dir) => {
    const server = await startPricewire({
      name: 'pricewire (REST)',
      profileDir: ctx.profileDir,
      env: {
        PRICEWIRE_SOURCES: 'simulated',
        PRICEWIRE_ASSETS_FILE: writeBenchRegistry(dir, 20),
        PRICEWIRE_RATE_LIMIT: '0',
      },
    })
    const bare = startChild({ name: 'bare fastify', entry: 'bench/servers/bare-fastify.ts', ipc: true })
    const loadgen = startChild({ name: 'autocannon', entry: 'bench/clients/autocannon.ts', ipc: true })
    try {
      const pricewireUrl = `${server.url}/v1/quotes?${query}`
      const sample = await firstFullResponse(pricewireUrl, assets.length)
      const { port: barePort } = await bare.next<{ type: 'ready'; port: number }>('ready')
      await bare.request({ cmd: 'body', body: sample.body, contentType: sample.contentType }, 'body-set')
      await loadgen.next('ready')
      const pinned =
        pinToCpus(server.child.pid, [0]) && pinToCpus(bare.pid, [0]) && pinToCpus(loadgen.pid, [1])
      ctx.log(pinned ? 'rest: servers on CPU 0, autocannon on CPU 1' : 'rest: not pinned to CPUs')
      const urls: Record<Contender, string> = {
        pricewire: pricewireUrl,
        'bare-preserialised': `http://127.0.0.1:${barePort}/pre/v1/quotes?${query}`,
        'bare-serialising': `http://127.0.0.1:${barePort}/obj/v1/quotes?${query}`,
      }
      const serverPid: Record<Contender, number> = {
        pricewire: server.child.pid,
        'bare-preserialised': bare.pid,
        'bare-serialising': bare.pid,
      }
      const run = async (c: Contender, seconds: number): Promise<RunResult> => {
        const cpu = new CpuWindow({ server: serverPid[c], loadgen: loadgen.pid })
        const { type: _t, ...r } = await loadgen.request<AutocannonResult>(
          { cmd: 'run', url: urls[c], connections, durationSec: seconds },
          'result',
          (seconds + 30) * 1000,
        )
        const used = cpu.stop()
        if (r.non2xx || r.errors)
          throw new Error(`${c}: ${r.non2xx} non-2xx and ${r.errors} errors in ${r.requests}`)
        return { ...r, serverCpu: used.server, loadgenCpu: used.loadgen }
      }
      ctx.log(
        `rest: warm-up ${warmupSec} s each, then ${rounds} × ${durationSec} s rounds × ${CONTENDERS.length}`,
      )
      for (const c of CONTENDERS) await run(c, warmupSec)
      const results = await alternate(CONTENDERS, rounds, async (c, r) => {
        const res = await run(c, durationSec)
        ctx.log(`rest: round ${r + 1} ${c}: ${Math.round(res.rps)} req/s, p99 ${res.latency.p99} ms`)
        return res
      })
      const rps = (c: Contender) => results[c].map((r) => r.rps)
      const figures: Figure[] = [
        {
          name: 'pricewire / pre-serialised route (req/s ratio)',
          value: medianRatio(rps('pricewire'), rps('bare-preserialised')),
          unit: '',
          target: { op: '>=', value: 0.8 },
        },
        {
          name: 'pricewire p99 latency',
          value: median(results.pricewire.map((r) => r.latency.p99)),
          unit: 'ms',
          target: { op: '<=', value: 10 },
        },
        {
          name: 'pricewire p99 / pre-serialised route p99',
          value: medianRatio(
            results.pricewire.map((r) => r.latency.p99),
            results['bare-preserialised'].map((r) => r.latency.p99),
          ),
          unit: '',
          note: 'at saturation p99 is mostly queueing: the mean is connections / throughput',
        },
        { name: 'pricewire throughput', value: median(rps('pricewire')), unit: 'req/s' },
        { name: 'pre-serialised route throughput', value: median(rps('bare-preserialised')), unit: 'req/s' },
        { name: 'serialising route throughput', value: median(rps('bare-serialising')), unit: 'req/s' },
        {
          name: 'serialising / pre-serialised route (req/s ratio)',
          value: medianRatio(rps('bare-serialising'), rps('bare-preserialised')),
          unit: '',
        },
        {
          name: 'p99 latency pre-serialised / serialising',
          value: median(results['bare-preserialised'].map((r) => r.latency.p99)),
          unit: 'ms',
          note: `serialising ${median(results['bare-serialising'].map((r) => r.latency.p99))} ms`,
        },
        ...CONTENDERS.map((c) => ({
          name: `CPU ${c} server / autocannon`,
          value: median(results[c].map((r) => r.serverCpu.pct)),
          unit: '%',
          note: `autocannon ${Math.round(median(results[c].map((r) => r.loadgenCpu.pct)))} %`,
        })),
        {
          name: 'server CPU per 1,000 requests pricewire / pre-serialised',
          value: median(results.pricewire.map((r) => r.serverCpu.cpuMs / (r.requests / 1000))),
          unit: 'ms',
          note: `pre-serialised ${median(results['bare-preserialised'].map((r) => r.serverCpu.cpuMs / (r.requests / 1000))).toFixed(1)} ms`,
        },
      ]
      return {
        figures,
        details: {
          server: server.entry,
          connections,
          durationSec,
          rateLimit: 'off (PRICEWIRE_RATE_LIMIT=0)',
          pinned,
          rounds,
          responseBytes: Buffer.byteLength(sample.body),
          responseHeaders: sample.headers,
          ratiosPerRound: ratios(rps('pricewire'), rps('bare-preserialised')),
          results,
        },
      }
    } finally {
      await Promise.all([server.stop(), bare.stop(), loadgen.stop()])
    }
  })
}

/** The first 200 answer listing every asset (the simulated source needs a poll before quotes exist). */
async function firstFullResponse(url: string, count: number) {
  const deadline = Date.now() + 20_000
  let last = ''
  while (Date.now() < deadline) {
    const res = await fetch(url)
    const body = await res.text()
    if (res.status === 200) {
      const parsed = JSON.parse(body) as unknown
      const quotes = Array.isArray(parsed)
        ? parsed
        : ((parsed as { data?: unknown[] }).data ?? (parsed as { quotes?: unknown[] }).quotes)
      if (Array.isArray(quotes) && quotes.length === count)
        return {
          body,
          contentType: res.headers.get('content-type') ?? 'application/json',
          headers: Object.fromEntries(res.headers),
        }
    }
    if (res.status === 404 && /route/i.test(body))
      throw new NotReady(`GET /v1/quotes is not routed yet (${body.slice(0, 80)})`)
    last = `HTTP ${res.status}: ${body.slice(0, 200)}`
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`GET ${url} never answered with ${count} quotes: ${last}`)
}
