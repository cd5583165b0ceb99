import type { Asset } from '../../shared/asset.js'
import { Quote, type QuoteCurrency, type QuoteSource, type SourceId, type Tick } from '../../shared/quote.js'
import { median, type StableRates, tickTime } from './stablecoins.js'

/**
 * Aggregation: pure functions from the latest ticks of an asset's markets to one Quote.
 * fresh ticks → USD → outliers out → volume-weighted median, with 24 h figures from history.
 */

/** A tick with the currency its market is quoted in. */
export interface MarketTick {
  tick: Tick
  quote: QuoteCurrency
}

/** One source's tick in USD, as it enters the aggregate. */
export interface Contribution {
  source: SourceId
  market: string
  price: number
  /** 24 h volume in USD, when the exchange gives one (quote volume, else base volume × price). */
  volumeUsd: number | null
  high: number | null
  low: number | null
  ts: number
  /** Converted at 1:1 because no live stablecoin rate was known. */
  approximate: boolean
}

export interface AggregateInput {
  asset: Pick<Asset, 'id' | 'symbol' | 'name'>
  ticks: readonly MarketTick[]
  now: number
  staleMs: number
  outlierPct: number
  rates: StableRates
  /** The last quote published for this asset, if any. */
  previous: Quote | undefined
  /** Sequence number to give the new quote. */
  seq: number
  /** Aggregated price about 24 h ago, from history. */
  price24hAgo: number | null
  volatility24h: number | null
  circulatingSupply: number | null
}

export interface AggregateResult {
  /** Null when there is nothing to say: no fresh source and no previous quote, or (never expected) an invalid quote. */
  quote: Quote | null
  accepted: Contribution[]
  /** Fresh contributions left out as outliers. */
  rejected: Contribution[]
  /** Why quote is null when it is not simply "no data". */
  error?: string
}

const isPositive = (n: number | null | undefined): n is number =>
  typeof n === 'number' && Number.isFinite(n) && n > 0

/** A tick in USD; null when it cannot be converted into a valid price. */
export function toUsd(mt: MarketTick, rates: StableRates): Contribution | null {
  const { tick, quote } = mt
  const live = quote === 'USD' ? 1 : rates[quote]
  const rate = isPositive(live) ? live : 1
  const price = tick.last * rate
  if (!isPositive(price)) return null
  const quoteVolume = tick.quoteVolume !== null ? tick.quoteVolume * rate : null
  const baseVolume = tick.baseVolume !== null ? tick.baseVolume * price : null
  const volumeUsd = quoteVolume ?? baseVolume
  const high = tick.high24h !== null ? tick.high24h * rate : null
  const low = tick.low24h !== null ? tick.low24h * rate : null
  return {
    source: tick.source,
    market: tick.market,
    price,
    volumeUsd: volumeUsd !== null && Number.isFinite(volumeUsd) && volumeUsd >= 0 ? volumeUsd : null,
    high: isPositive(high) ? high : null,
    low: isPositive(low) ? low : null,
    ts: tickTime(tick),
    approximate: quote !== 'USD' && !isPositive(live),
  }
}

/**
 * Splits contributions into accepted and rejected by their deviation from the cross-source median
 * (more than outlierPct percent away is an outlier). When nothing lies near the median (two sources
 * that disagree, or two equal clusters) one contribution is trusted as the anchor: the one nearest
 * the previous price, else the one with the largest volume, and the others are judged against it.
 */
export function rejectOutliers<T extends { price: number; volumeUsd: number | null }>(
  items: readonly T[],
  outlierPct: number,
  previousPrice?: number,
): { accepted: T[]; rejected: T[] } {
  if (items.length <= 1) return { accepted: [...items], rejected: [] }
  const tolerance = outlierPct / 100
  const near = (ref: number) => (c: T) => Math.abs(c.price - ref) <= tolerance * ref
  let ref = median(items.map((c) => c.price))
  if (!items.some(near(ref))) ref = anchor(items, previousPrice).price
  const accepted = items.filter(near(ref))
  return { accepted, rejected: items.filter((c) => !accepted.includes(c)) }
}

function anchor<T extends { price: number; volumeUsd: number | null }>(
  items: readonly T[],
  previousPrice?: number,
): T {
  let best = items[0]!
  for (const c of items.slice(1)) {
    if (isPositive(previousPrice)) {
      if (Math.abs(c.price - previousPrice) < Math.abs(best.price - previousPrice)) best = c
    } else if ((c.volumeUsd ?? 0) > (best.volumeUsd ?? 0)) best = c
  }
  return best
}

/**
 * The weighted median of non-empty values: the value where the cumulative weight crosses half the
 * total (the mean of the two neighbours on an exact tie). Equal weights when the weights are not all
 * usable (any missing, negative or all zero). Always within [min, max] of the values.
 */
export function weightedMedian(items: readonly { value: number; weight: number | null }[]): number {
  const usable = items.every((i) => i.weight !== null && Number.isFinite(i.weight) && i.weight >= 0)
  const total0 = usable ? items.reduce((s, i) => s + (i.weight ?? 0), 0) : 0
  const equal = !usable || !(total0 > 0) || !Number.isFinite(total0)
  const sorted = [...items]
    .map((i) => ({ value: i.value, weight: equal ? 1 : (i.weight as number) }))
    .sort((a, b) => a.value - b.value)
  const total = sorted.reduce((s, i) => s + i.weight, 0)
  const half = total / 2
  const eps = total * 1e-12
  let cum = 0
  for (let k = 0; k < sorted.length; k++) {
    cum += sorted[k]!.weight
    if (Math.abs(cum - half) <= eps && k + 1 < sorted.length) {
      // Exact tie: the next value with weight (skipping zero weights) closes the interval.
      const next = sorted.slice(k + 1).find((i) => i.weight > 0) ?? sorted[k + 1]!
      return (sorted[k]!.value + next.value) / 2
    }
    if (cum > half) return sorted[k]!.value
  }
  return sorted[sorted.length - 1]!.value
}

/** Percent change from `from` to `to`, or null when it cannot be computed. */
export function percentChange(to: number, from: number | null): number | null {
  if (!isPositive(from)) return null
  const pct = (to / from - 1) * 100
  return Number.isFinite(pct) ? pct : null
}

/** One asset's quote from its latest ticks. Pure: same input, same output. */
export function aggregateQuote(input: AggregateInput): AggregateResult {
  const { asset, now, staleMs, previous } = input
  const fresh: Contribution[] = []
  for (const mt of input.ticks) {
    if (now - tickTime(mt.tick) > staleMs) continue
    const c = toUsd(mt, input.rates)
    if (c) fresh.push(c)
  }
  const { accepted, rejected } = rejectOutliers(fresh, input.outlierPct, previous?.price)

  if (accepted.length === 0) {
    // No fresh source: the last known price, marked stale, until a source comes back.
    if (!previous) return { quote: null, accepted, rejected }
    const quote: Quote = { ...previous, seq: input.seq, stale: true }
    return { quote, accepted, rejected }
  }

  const price = weightedMedian(accepted.map((c) => ({ value: c.price, weight: c.volumeUsd })))
  const volumes = accepted.map((c) => c.volumeUsd).filter((v): v is number => v !== null)
  const volume24h = volumes.length > 0 ? volumes.reduce((s, v) => s + v, 0) : null
  const highs = accepted.map((c) => c.high).filter(isPositive)
  const lows = accepted.map((c) => c.low).filter(isPositive)
  const marketCap = isPositive(input.circulatingSupply) ? price * input.circulatingSupply : null
  const open24h = isPositive(input.price24hAgo) ? input.price24hAgo : null
  const sources: QuoteSource[] = accepted.map((c) => ({
    source: c.source,
    market: c.market,
    price: c.price,
    volume24h: c.volumeUsd,
    ts: Math.max(0, Math.trunc(c.ts)),
  }))

  const candidate: Quote = {
    asset: asset.id,
    symbol: asset.symbol,
    name: asset.name,
    currency: 'USD',
    price,
    change24h: percentChange(price, open24h),
    open24h,
    // The 24 h range always contains the current price.
    high24h: highs.length > 0 ? Math.max(price, ...highs) : null,
    low24h: lows.length > 0 ? Math.min(price, ...lows) : null,
    volume24h: volume24h !== null && Number.isFinite(volume24h) ? volume24h : null,
    marketCap: marketCap !== null && Number.isFinite(marketCap) ? marketCap : null,
    volatility24h:
      input.volatility24h !== null && Number.isFinite(input.volatility24h) && input.volatility24h >= 0
        ? input.volatility24h
        : null,
    sources,
    updatedAt: Math.trunc(now),
    seq: input.seq,
    stale: false,
    approximate: accepted.some((c) => c.approximate),
    simulated: accepted.some((c) => c.source === 'simulated'),
  }
  const parsed = Quote.safeParse(candidate)
  if (!parsed.success) {
    return { quote: null, accepted, rejected, error: parsed.error.issues[0]?.message ?? 'invalid quote' }
  }
  return { quote: parsed.data, accepted, rejected }
}
