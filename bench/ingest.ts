import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { EXCHANGE_IDS } from '../shared/quote.js'
import { alternate } from './lib/ab.js'
import { ROOT, sleep, startChild, waitForHttp } from './lib/children.js'
import type { BenchContext } from './lib/context.js'
import { NotReady } from './lib/context.js'
import { startFixtureExchanges } from './lib/exchange-fixtures.js'
import { startPricewire } from './lib/pricewire.js'
import type { Figure } from './lib/report.js'
import { median, medianRatio } from './lib/stats.js'

/**
 * Ingest cost. (1) Requests per exchange per poll cycle: the real server polling fake exchanges
 * that serve the recorded fixtures; the server's own count (/metrics pricewire_source_requests_total,
 * endpoint="tickers") over a window, divided by the poll cycles seen on the wire in that window (the
 * fakes' request logs), with the per-cycle wire count as a cross-check. Must be 1 wherever an
 * all-tickers endpoint exists.
 * (2) CPU per 1,000 ticks aggregated: aggregateQuote in a loop vs a bare weighted median.
 */

const ALL_TICKERS = new Set<string>(['binance', 'okx', 'bybit', 'mexc', 'gate', 'kucoin', 'kraken'])

export async function ingestBench(ctx: BenchContext) {
  if (!existsSync(join(ROOT, 'server/ingest/aggregate.ts')))
    throw new NotReady('the ingest (server/ingest/aggregate.ts) is not there yet')
  const requests = await requestsPerCycle(ctx)
  const aggregation = await aggregationCost(ctx)
  return {
    figures: [...requests.figures, ...aggregation.figures],
    details: { requests: requests.details, aggregation: aggregation.details },
  }
}

async function requestsPerCycle(ctx: BenchContext) {
  const pollMs = 500
  const windowMs = ctx.quick ? 3_000 : 15_000
  const exchanges = await startFixtureExchanges()
  const sources = [...EXCHANGE_IDS, 'coingecko']
  try {
    const server = await startPricewire({
      name: 'pricewire (ingest)',
      env: {
        PRICEWIRE_SOURCES: sources.join(','),
        PRICEWIRE_POLL_MS: String(pollMs),
        LOG_LEVEL: 'error',
        ...exchanges.env,
      },
    })
    try {
      await waitForHttp(`${server.url}/readyz`, 10_000, server.child)
      await sleep(2 * pollMs) // start-up (market lists, backfill) is over
      // Both counter readings are taken halfway between two cycles, when no poll is in flight.
      const binance = exchanges.fakes.find((f) => f.spec.id === 'binance')!.fake
      const betweenCycles = async () => {
        const seen = binance.requests.length
        const deadline = Date.now() + 10 * pollMs
        while (binance.requests.length === seen && Date.now() < deadline) await sleep(5)
        await sleep(pollMs / 2)
      }
      await betweenCycles()
      const t0 = Date.now()
      const before = parseCounters(await (await fetch(`${server.url}/metrics`)).text())
      await sleep(windowMs - pollMs)
      await betweenCycles()
      const after = parseCounters(await (await fetch(`${server.url}/metrics`)).text())
      const t1 = Date.now()

      // Poll cycles, from the wire: every due source is polled at the same instant of a cycle, so
      // ticker requests cluster; a gap over half the interval starts the next cycle.
      const tickerRequests = exchanges.fakes
        .filter((f) => f.spec.id !== 'coingecko')
        .flatMap((f) =>
          f.fake.requests
            .filter((r) => r.at >= t0 && r.at < t1 && f.spec.isTickerPath(r.path))
            .map((r) => ({ id: f.spec.id, at: r.at })),
        )
        .sort((a, b) => a.at - b.at)
      const cycles: Record<string, number>[] = []
      let lastAt = Number.NEGATIVE_INFINITY
      for (const r of tickerRequests) {
        if (r.at - lastAt > pollMs / 2) cycles.push({})
        lastAt = r.at
        const cycle = cycles.at(-1)!
        cycle[r.id] = (cycle[r.id] ?? 0) + 1
      }
      const full = cycles.slice(1, -1) // the first and last may be cut by the window
      const coingecko = exchanges.fakes.find((f) => f.spec.id === 'coingecko')!
      const geckoPolls = clusters(
        coingecko.fake.requests.filter((r) => r.at >= t0 && r.at < t1).map((r) => r.at),
        pollMs,
      )
      const geckoServer = delta(before, after, 'coingecko', 'markets')

      const figures: Figure[] = []
      const perExchange: Record<string, unknown> = {}
      for (const id of EXCHANGE_IDS) {
        const wire = full.map((c) => c[id] ?? 0)
        const polledCycles = cycles.filter((c) => (c[id] ?? 0) > 0).length
        // The server's own count over the same window, per cycle it polled in.
        const serverCount = delta(before, after, id, 'tickers')
        const perCycle = polledCycles ? serverCount / polledCycles : null
        perExchange[id] = {
          cyclesInWindow: cycles.length,
          polledCycles,
          serverCountedTickerRequests: serverCount,
          wirePerFullCycle: wire,
        }
        const note = `wire: ${wire.length ? Math.min(...wire) : 'n/a'}–${wire.length ? Math.max(...wire) : 'n/a'} per cycle`
        figures.push(
          ALL_TICKERS.has(id)
            ? {
                name: `${id}: ticker requests per poll cycle`,
                value: perCycle,
                unit: '',
                target: { op: '==', value: 1 },
                note,
              }
            : {
                name: `${id}: ticker requests per poll cycle`,
                value: perCycle,
                unit: '',
                note: `${note}; no all-tickers endpoint: stats + ticker per product`,
              },
        )
      }
      figures.push({
        name: 'coingecko: requests per market-data refresh',
        value: geckoPolls.length ? geckoServer / geckoPolls.length : null,
        unit: '',
        target: { op: '==', value: 1 },
        note: `${geckoPolls.length} refreshes`,
      })
      figures.push({
        name: 'poll cycles observed',
        value: full.length,
        unit: '',
        note: `${pollMs} ms interval, ${windowMs / 1000} s`,
      })
      return {
        figures,
        details: { pollMs, windowMs, cycles: full.length, perExchange, coingeckoPerRefresh: geckoPolls },
      }
    } finally {
      await server.stop()
    }
  } finally {
    await exchanges.stop()
  }
}

async function aggregationCost(ctx: BenchContext) {
  const rounds = ctx.quick ? 2 : 5
  const durationMs = ctx.quick ? 300 : 2_000
  const child = startChild({ name: 'aggregate loop', entry: 'bench/clients/aggregate-loop.ts', ipc: true })
  try {
    await child.next('ready')
    type R = { type: 'result'; cpuMsPer1000Ticks: number; ticks: number; cpuMs: number }
    const run = (impl: string) =>
      child.request<R>({ cmd: 'run', impl, durationMs }, 'result', durationMs + 30_000)
    await run('aggregateQuote')
    await run('bare')
    const results = await alternate(['aggregateQuote', 'bare'] as const, rounds, (impl) => run(impl))
    const per = (k: 'aggregateQuote' | 'bare') => results[k].map((r) => r.cpuMsPer1000Ticks)
    return {
      figures: [
        {
          name: 'aggregation CPU per 1,000 ticks (aggregateQuote)',
          value: median(per('aggregateQuote')),
          unit: 'ms',
          note: '8 ticks per asset',
        },
        { name: 'bare weighted median CPU per 1,000 ticks', value: median(per('bare')), unit: 'ms' },
        {
          name: 'aggregateQuote / bare weighted median',
          value: medianRatio(per('aggregateQuote'), per('bare')),
          unit: '×',
        },
      ] satisfies Figure[],
      details: { rounds, durationMs, results },
    }
  } finally {
    await child.stop()
  }
}

/** Sizes of groups of timestamps separated by more than gapMs. */
function clusters(times: number[], gapMs: number): number[] {
  const out: number[] = []
  let last = Number.NEGATIVE_INFINITY
  for (const t of [...times].sort((a, b) => a - b)) {
    if (t - last > gapMs) out.push(0)
    out[out.length - 1]!++
    last = t
  }
  return out
}

type Counters = Map<string, number>

/** pricewire_source_requests_total{source,endpoint} from the Prometheus text format. */
function parseCounters(text: string): Counters {
  const out: Counters = new Map()
  for (const line of text.split('\n')) {
    const m = /^pricewire_source_requests_total\{([^}]*)\} (\S+)/.exec(line)
    if (!m) continue
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]))
    out.set(`${labels.source}|${labels.endpoint}`, Number(m[2]))
  }
  return out
}

function delta(before: Counters, after: Counters, source: string, endpoint: string): number {
  const key = `${source}|${endpoint}`
  return (after.get(key) ?? 0) - (before.get(key) ?? 0)
}
