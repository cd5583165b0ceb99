import { aggregateQuote, type MarketTick } from '../../server/ingest/aggregate.js'
import { EXCHANGE_IDS, type Tick } from '../../shared/quote.js'
import { onCommand, reply } from '../lib/ipc.js'

/**
 * CPU cost of aggregation, in its own process: the real aggregateQuote (freshness, USD conversion,
 * outliers, volume-weighted median, Quote validation) vs the bare arithmetic floor (a volume-weighted
 * median of the same prices), over 100 assets × 8 exchange ticks each.
 */
const ASSETS = 100
const NOW = 1_764_000_000_000
const rates = { USDT: 0.999, USDC: 1 }

function inputs(): { id: string; ticks: MarketTick[] }[] {
  let seed = 7
  const rand = () => {
    seed = (seed * 16807) % 2147483647
    return seed / 2147483647
  }
  return Array.from({ length: ASSETS }, (_, a) => {
    const base = 0.01 + rand() * 1000
    const ticks = EXCHANGE_IDS.map((source, k): MarketTick => {
      const last = base * (1 + (rand() - 0.5) * 0.004) * (k === 3 && a % 10 === 0 ? 1.2 : 1)
      const tick: Tick = {
        source,
        market: `A${a}USDT`,
        last,
        open24h: last * 0.98,
        high24h: last * 1.03,
        low24h: last * 0.97,
        changePercent24h: 2,
        baseVolume: 1000 + rand() * 1e6,
        quoteVolume: null,
        ts: NOW - 2_000,
        receivedAt: NOW - 1_000,
      }
      return { tick, quote: k >= 6 ? 'USD' : 'USDT' }
    })
    return { id: `a${a}`, ticks }
  })
}

const data = inputs()
const TICKS_PER_PASS = data.reduce((s, d) => s + d.ticks.length, 0)
let sink = 0

function realPass(seq: number): void {
  for (const d of data) {
    const r = aggregateQuote({
      asset: { id: d.id, symbol: d.id.toUpperCase(), name: d.id },
      ticks: d.ticks,
      now: NOW,
      staleMs: 60_000,
      outlierPct: 5,
      rates,
      previous: undefined,
      seq,
      price24hAgo: null,
      volatility24h: null,
      circulatingSupply: null,
    })
    sink += r.quote?.price ?? 0
  }
}

function barePass(): void {
  for (const d of data) {
    const items = d.ticks.map((t) => {
      const price = t.tick.last * (t.quote === 'USD' ? 1 : rates.USDT)
      return { price, weight: (t.tick.baseVolume ?? 0) * price }
    })
    items.sort((x, y) => x.price - y.price)
    let total = 0
    for (const i of items) total += i.weight
    let cum = 0
    for (const i of items) {
      cum += i.weight
      if (cum >= total / 2) {
        sink += i.price
        break
      }
    }
  }
}

onCommand((c) => {
  if (c.cmd !== 'run') return
  const impl = String(c.impl)
  const durationMs = Number(c.durationMs)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let passes = 0
  while (performance.now() - t0 < durationMs) {
    if (impl === 'aggregateQuote') realPass(passes)
    else barePass()
    passes++
  }
  const cpu = process.cpuUsage(cpu0)
  const cpuMs = (cpu.user + cpu.system) / 1000
  const ticks = passes * TICKS_PER_PASS
  reply('result', { impl, ticks, cpuMs, cpuMsPer1000Ticks: (cpuMs / ticks) * 1000, sink: sink > 0 })
})
reply('ready')
