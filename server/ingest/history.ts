import {
  type HistoryPoint,
  RESOLUTION_MS,
  RESOLUTION_RETENTION_MS,
  type Resolution,
  WINDOW_MS,
} from '../../shared/quote.js'
import type { HistoryUpdate } from '../engine/engine.js'

/**
 * Price history per asset: 5-minute points for 24 h and 1-hour points for 7 days. A point is keyed
 * at its bucket's start and holds the last price seen in that bucket (for a backfilled candle, its
 * close). The pure functions here compute the 24 h figures of a quote from the 5-minute series.
 */

export const RESOLUTIONS: readonly Resolution[] = ['5m', '1h']
const DAY_MS = WINDOW_MS['24h']
/** 5-minute returns in a day: the factor that scales their deviation to one day is √288. */
const RETURNS_PER_DAY = DAY_MS / RESOLUTION_MS['5m']
/** Fewer returns than this (one hour) give no meaningful volatility. */
export const MIN_VOLATILITY_RETURNS = 12
/** How far from exactly 24 h ago the reference point may be. */
export const PRICE_24H_TOLERANCE_MS = 15 * 60_000

export function bucketStart(ts: number, resolution: Resolution): number {
  const size = RESOLUTION_MS[resolution]
  return Math.floor(ts / size) * size
}

/** Downsamples an oldest-first series to a coarser resolution: the last point of each bucket, keyed at its start. */
export function downsample(points: readonly HistoryPoint[], to: Resolution): HistoryPoint[] {
  const byBucket = new Map<number, HistoryPoint>()
  for (const [ts, price] of points) byBucket.set(bucketStart(ts, to), [bucketStart(ts, to), price])
  return [...byBucket.values()].sort((a, b) => a[0] - b[0])
}

/**
 * The price of the point whose "as of" time (its bucket's end, or now for the current bucket) is
 * nearest to `target`, when within `toleranceMs`; else null.
 */
export function priceAt(
  points: readonly HistoryPoint[],
  resolution: Resolution,
  target: number,
  now: number,
  toleranceMs: number,
): number | null {
  let best: HistoryPoint | undefined
  let bestGap = Number.POSITIVE_INFINITY
  for (const p of points) {
    const asOf = Math.min(p[0] + RESOLUTION_MS[resolution], now)
    const gap = Math.abs(asOf - target)
    if (gap < bestGap) {
      best = p
      bestGap = gap
    }
  }
  return best && bestGap <= toleranceMs ? best[1] : null
}

/** The aggregated price 24 h before `now`, from the 5-minute series; null when unknown. */
export function price24hAgo(points5m: readonly HistoryPoint[], now: number): number | null {
  return priceAt(points5m, '5m', now - DAY_MS, now, PRICE_24H_TOLERANCE_MS)
}

/**
 * Volatility over the last 24 h: the standard deviation of 5-minute log returns (consecutive
 * points exactly 5 minutes apart; a gap is not a 5-minute return) scaled to one day by √288, in
 * percent. Null with fewer than MIN_VOLATILITY_RETURNS returns.
 */
export function volatility24h(points5m: readonly HistoryPoint[], now: number): number | null {
  const step = RESOLUTION_MS['5m']
  const from = now - DAY_MS - step
  const window = points5m.filter(([ts]) => ts >= from && ts <= now)
  const returns: number[] = []
  for (let i = 1; i < window.length; i++) {
    const [t0, p0] = window[i - 1]!
    const [t1, p1] = window[i]!
    if (t1 - t0 !== step || !(p0 > 0) || !(p1 > 0)) continue
    returns.push(Math.log(p1 / p0))
  }
  if (returns.length < MIN_VOLATILITY_RETURNS) return null
  const mean = returns.reduce((s, r) => s + r, 0) / returns.length
  const variance = returns.reduce((s, r) => s + (r - mean) ** 2, 0) / (returns.length - 1)
  const vol = Math.sqrt(variance) * Math.sqrt(RETURNS_PER_DAY) * 100
  return Number.isFinite(vol) ? vol : null
}

/**
 * The 5-minute series as it will be once `price` is recorded at `now` (the current bucket's point
 * replaced or appended), without changing it: volatility computed on it already includes the
 * price being published, so the next aggregation does not publish again just to update it.
 */
export function withLatest(points5m: readonly HistoryPoint[], price: number, now: number): HistoryPoint[] {
  const start = bucketStart(now, '5m')
  const last = points5m[points5m.length - 1]
  if (!last || last[0] < start) return [...points5m, [start, price]]
  if (last[0] === start) return [...points5m.slice(0, -1), [start, price]]
  return [...points5m]
}

/** A point to write to the engine. */
export interface HistoryWrite {
  asset: string
  resolution: Resolution
  point: HistoryPoint
}

/**
 * The leader's working copy of every asset's history (the engine holds the shared one): records
 * each new aggregated price into the current buckets and reports the buckets that closed.
 */
export class HistoryBook {
  private readonly series = new Map<string, HistoryPoint[]>()

  get(asset: string, resolution: Resolution): readonly HistoryPoint[] {
    return this.series.get(key(asset, resolution)) ?? []
  }

  /** Replaces a series (after loading it from the engine or backfilling it), oldest first. */
  set(asset: string, resolution: Resolution, points: readonly HistoryPoint[], now: number): void {
    const cutoff = now - RESOLUTION_RETENTION_MS[resolution]
    const byTs = new Map<number, HistoryPoint>()
    for (const [ts, price] of points) if (ts >= cutoff && ts <= now && price > 0) byTs.set(ts, [ts, price])
    this.series.set(
      key(asset, resolution),
      [...byTs.values()].sort((a, b) => a[0] - b[0]),
    )
  }

  clear(): void {
    this.series.clear()
  }

  /**
   * Records `price` as the latest of the current bucket at each resolution. Returns the points to
   * write (the current buckets) and the buckets that closed since the last record (their final point).
   */
  record(asset: string, price: number, now: number): { writes: HistoryWrite[]; closed: HistoryUpdate[] } {
    const writes: HistoryWrite[] = []
    const closed: HistoryUpdate[] = []
    for (const resolution of RESOLUTIONS) {
      const k = key(asset, resolution)
      const points = this.series.get(k) ?? []
      const start = bucketStart(now, resolution)
      const last = points[points.length - 1]
      const point: HistoryPoint = [start, price]
      if (!last || last[0] < start) {
        if (last) closed.push({ asset, resolution, point: [last[0], last[1]] })
        points.push(point)
        const cutoff = now - RESOLUTION_RETENTION_MS[resolution]
        while (points.length > 0 && points[0]![0] < cutoff) points.shift()
      } else {
        // The current bucket (or, should the clock step back, an earlier one): replaced in place.
        const i = points.findIndex((p) => p[0] >= start)
        if (points[i]![0] === start) points[i] = point
        else points.splice(i, 0, point)
      }
      this.series.set(k, points)
      writes.push({ asset, resolution, point })
    }
    return { writes, closed }
  }
}

const key = (asset: string, resolution: Resolution) => `${asset}|${resolution}`
