import type { Logger } from 'pino'
import type { HistoryPoint, QuoteCurrency, Resolution } from '../../shared/quote.js'
import { RESOLUTION_MS, WINDOW_MS } from '../../shared/quote.js'
import type { Engine } from '../engine/engine.js'
import type { Candle, Source } from '../sources/source.js'
import { bucketStart, downsample, type HistoryBook, RESOLUTIONS } from './history.js'
import type { StableRates } from './stablecoins.js'

/** Candles asked for per resolution: 24 h of 5-minute and 7 days of 1-hour candles. */
export const BACKFILL_LIMIT: Record<Resolution, number> = { '5m': 288, '1h': 168 }
const WINDOW_OF: Record<Resolution, number> = { '5m': WINDOW_MS['24h'], '1h': WINDOW_MS['7d'] }

export interface BackfillCandidate {
  source: Source
  market: string
  quote: QuoteCurrency
}

/** Candles → history points in USD, keyed at bucket start; invalid or future candles left out. */
export function candlesToPoints(
  candles: readonly Candle[],
  resolution: Resolution,
  rate: number,
  now: number,
): HistoryPoint[] {
  const out = new Map<number, HistoryPoint>()
  for (const c of candles) {
    const ts = bucketStart(c.ts, resolution)
    const price = c.close * rate
    if (!Number.isFinite(ts) || ts < 0 || ts > now || !Number.isFinite(price) || price <= 0) continue
    out.set(ts, [ts, price])
  }
  return [...out.values()].sort((a, b) => a[0] - b[0])
}

/** Whether a series has no point within its window (so the asset needs a backfill at that resolution). */
export function needsBackfill(points: readonly HistoryPoint[], resolution: Resolution, now: number): boolean {
  const from = now - WINDOW_OF[resolution]
  return !points.some(([ts]) => ts >= from - RESOLUTION_MS[resolution])
}

/**
 * Fills an asset's empty series from one exchange's candles (288 × 5m, 168 × 1h), converted to USD,
 * so that sparklines, change24h and volatility exist at once. Candidates are tried in order until
 * one answers; a missing 1-hour series is derived from the 5-minute one when no exchange gives it.
 * Returns the resolutions filled.
 */
export async function backfillAsset(opts: {
  asset: string
  candidates: readonly BackfillCandidate[]
  rates: StableRates
  engine: Engine
  book: HistoryBook
  logger: Logger
  /** Still allowed to write (leadership held)? */
  active: () => boolean
}): Promise<Resolution[]> {
  const { asset, book, engine, logger } = opts
  const filled: Resolution[] = []
  const wanted = RESOLUTIONS.filter((r) => needsBackfill(book.get(asset, r), r, Date.now()))
  for (const resolution of wanted) {
    for (const c of opts.candidates) {
      const rate = c.quote === 'USD' ? 1 : (opts.rates[c.quote] ?? 1)
      try {
        const candles = await c.source.fetchCandles(c.market, resolution, BACKFILL_LIMIT[resolution])
        const now = Date.now()
        const points = candlesToPoints(candles, resolution, rate, now)
        if (!opts.active()) return filled
        if (points.length === 0) {
          logger.warn(
            { asset, resolution, source: c.source.id, market: c.market, candles: candles.length },
            `${asset}: no usable candles from ${c.source.id}`,
          )
          continue
        }
        book.set(asset, resolution, [...book.get(asset, resolution), ...points], now)
        await engine.appendHistory(asset, resolution, points)
        filled.push(resolution)
        logger.info(
          { asset, resolution, source: c.source.id, market: c.market, points: points.length },
          `${asset}: history backfilled from ${c.source.id} ${c.market}`,
        )
        break
      } catch (err) {
        logger.warn(
          { asset, resolution, source: c.source.id, market: c.market, err: (err as Error).message },
          `${asset}: backfill from ${c.source.id} failed`,
        )
      }
    }
  }
  if (wanted.includes('1h') && !filled.includes('1h') && filled.includes('5m') && opts.active()) {
    const points = downsample(book.get(asset, '5m'), '1h')
    book.set(asset, '1h', [...book.get(asset, '1h'), ...points], Date.now())
    await engine.appendHistory(asset, '1h', points)
    filled.push('1h')
  }
  return filled
}
