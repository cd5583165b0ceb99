import type { Asset } from '../../shared/asset.js'
import { RESOLUTION_MS, type Resolution, Tick } from '../../shared/quote.js'
import type { AssetRegistry } from '../assets.js'
import type { Candle, Source, TickBatch } from './source.js'

/**
 * [simulated] Demo and test data only, switched on by PRICEWIRE_SOURCES=simulated; never on by
 * default. Seeded random walks (geometric, gently pulled back to a realistic anchor price) for every
 * registry asset, with 7 days of generated 5-minute candles ending at the current price, served
 * through fetchCandles so the normal backfill path fills sparklines and volatility at once.
 * Market name = asset id; prices in USD.
 */

interface Profile {
  /** Anchor price in USD. */
  price: number
  /** Daily volatility of the walk, percent. */
  dailyVolPct: number
  /** Typical 24 h volume, USD. */
  volumeUsd: number
}

const PROFILES: Record<string, Profile> = {
  btc: { price: 97_000, dailyVolPct: 2.5, volumeUsd: 30e9 },
  eth: { price: 3_500, dailyVolPct: 3.5, volumeUsd: 15e9 },
  sol: { price: 180, dailyVolPct: 5, volumeUsd: 3e9 },
  pol: { price: 0.25, dailyVolPct: 5, volumeUsd: 1.5e8 },
  talus: { price: 0.01, dailyVolPct: 9, volumeUsd: 8e6 },
}
const DEFAULT_PROFILE: Profile = { price: 1, dailyVolPct: 5, volumeUsd: 1e7 }

const DAY_MS = 86_400_000
const STEP_MS = RESOLUTION_MS['5m']
const HISTORY_STEPS = (7 * DAY_MS) / STEP_MS
/** Pull of the log price back to the anchor, per day (keeps a long demo near realistic prices). */
const MEAN_REVERSION_PER_DAY = 0.5
const MIN_POLL_MS = 100

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function hashString(s: string): number {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619)
  return h >>> 0
}

/** Standard normal draws (Box-Muller) from a uniform source. */
function normal(random: () => number): number {
  const u = Math.max(random(), Number.EPSILON)
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random())
}

interface Bar {
  open: number
  high: number
  low: number
  close: number
  /** Base volume. */
  volume: number
}

/** One asset's walk: its 5-minute bars by bucket start and the live price. */
class Walk {
  private readonly random: () => number
  private readonly bars = new Map<number, Bar>()
  private readonly sigmaPerSqrtDay: number
  private logPrice: number
  private lastAt: number

  constructor(
    private readonly profile: Profile,
    seed: number,
    now: number,
  ) {
    this.random = seededRandom(seed)
    this.sigmaPerSqrtDay = profile.dailyVolPct / 100
    this.logPrice = Math.log(profile.price)
    this.lastAt = now
    this.generateHistory(now)
  }

  /** 7 days of 5-minute bars ending at the anchor price now, generated backwards. */
  private generateHistory(now: number): void {
    const sigma = this.sigmaPerSqrtDay * Math.sqrt(STEP_MS / DAY_MS)
    const current = Math.floor(now / STEP_MS) * STEP_MS
    let close = this.profile.price
    for (let k = 0; k <= HISTORY_STEPS; k++) {
      const open = close * Math.exp(-sigma * normal(this.random))
      this.bars.set(current - k * STEP_MS, this.makeBar(open, close, sigma))
      close = open
    }
  }

  private makeBar(open: number, close: number, sigma: number): Bar {
    const wick = () => Math.abs(normal(this.random)) * sigma * 0.5
    const volumeUsd = (this.profile.volumeUsd / (DAY_MS / STEP_MS)) * (0.5 + this.random())
    return {
      open,
      close,
      high: Math.max(open, close) * (1 + wick()),
      low: Math.min(open, close) * (1 - wick()),
      volume: volumeUsd / close,
    }
  }

  /** Advances the walk to `now` (an Ornstein-Uhlenbeck step on the log price) and returns the price. */
  advance(now: number): number {
    const dtDays = Math.max(0, now - this.lastAt) / DAY_MS
    if (dtDays > 0) {
      const anchor = Math.log(this.profile.price)
      const pull = -MEAN_REVERSION_PER_DAY * (this.logPrice - anchor) * dtDays
      this.logPrice += pull + this.sigmaPerSqrtDay * Math.sqrt(dtDays) * normal(this.random)
      this.lastAt = now
    }
    const price = Math.exp(this.logPrice)
    const start = Math.floor(now / STEP_MS) * STEP_MS
    const bar = this.bars.get(start)
    if (bar) {
      bar.close = price
      bar.high = Math.max(bar.high, price)
      bar.low = Math.min(bar.low, price)
    } else {
      const previous = this.bars.get(start - STEP_MS)
      const sigma = this.sigmaPerSqrtDay * Math.sqrt(STEP_MS / DAY_MS)
      this.bars.set(start, this.makeBar(previous?.close ?? price, price, sigma))
      for (const ts of this.bars.keys()) if (ts < start - 8 * DAY_MS) this.bars.delete(ts)
    }
    return price
  }

  tick(source: 'simulated', market: string, now: number): Tick {
    const last = this.advance(now)
    const from = now - DAY_MS
    let high = last
    let low = last
    let baseVolume = 0
    let quoteVolume = 0
    for (const [ts, bar] of this.bars) {
      if (ts < from) continue
      high = Math.max(high, bar.high)
      low = Math.min(low, bar.low)
      baseVolume += bar.volume
      quoteVolume += bar.volume * bar.close
    }
    const open24h = this.bars.get(Math.floor(from / STEP_MS) * STEP_MS)?.close ?? null
    return Tick.parse({
      source,
      market,
      last,
      open24h,
      high24h: high,
      low24h: low,
      changePercent24h: open24h ? (last / open24h - 1) * 100 : null,
      baseVolume,
      quoteVolume,
      ts: now,
      receivedAt: now,
    })
  }

  candles(resolution: Resolution, limit: number, now: number): Candle[] {
    this.advance(now)
    const size = RESOLUTION_MS[resolution]
    const merged = new Map<number, Candle>()
    for (const ts of [...this.bars.keys()].sort((a, b) => a - b)) {
      const bar = this.bars.get(ts)!
      const key = Math.floor(ts / size) * size
      const c = merged.get(key)
      if (!c) {
        merged.set(key, { ts: key, ...bar, baseVolume: bar.volume })
      } else {
        c.high = Math.max(c.high, bar.high)
        c.low = Math.min(c.low, bar.low)
        c.close = bar.close
        c.baseVolume = (c.baseVolume ?? 0) + bar.volume
      }
    }
    const out = [...merged.values()].map(({ ts, open, high, low, close, baseVolume }) => ({
      ts,
      open,
      high,
      low,
      close,
      baseVolume,
    }))
    return limit > 0 ? out.slice(-Math.trunc(limit)) : []
  }
}

export interface SimulatedSourceOptions {
  /** Clock (tests). */
  now?: () => number
}

/** The simulated source for every asset of the registry (market = asset id). Deterministic per seed. */
export function createSimulatedSource(
  registry: AssetRegistry | readonly Asset[],
  seed: number,
  opts: SimulatedSourceOptions = {},
): Source {
  const now = opts.now ?? Date.now
  const assets = Array.isArray(registry) ? registry : (registry as AssetRegistry).assets
  const start = now()
  const walks = new Map<string, Walk>()
  for (const a of assets as readonly Asset[]) {
    walks.set(a.id, new Walk(PROFILES[a.id] ?? DEFAULT_PROFILE, (seed ^ hashString(a.id)) >>> 0, start))
  }

  return {
    id: 'simulated',
    minPollMs: MIN_POLL_MS,

    async listMarkets() {
      return new Set(walks.keys())
    },

    async fetchTickers(markets): Promise<TickBatch> {
      const t = now()
      const ticks: Tick[] = []
      for (const m of new Set(markets)) {
        const walk = walks.get(m)
        if (walk) ticks.push(walk.tick('simulated', m, t))
      }
      return { ticks, dropped: 0, dropReasons: [] }
    },

    async fetchCandles(market, resolution, limit) {
      return walks.get(market)?.candles(resolution, limit, now()) ?? []
    },

    async close() {},
  }
}
