import type { Resolution, SourceId, Tick } from '../../shared/quote.js'

/** One candle, oldest-first order in any list, timestamps in ms (candle open time). */
export interface Candle {
  ts: number
  open: number
  high: number
  low: number
  close: number
  baseVolume: number | null
}

/** The result of one poll: the valid ticks, and how many rows were dropped as malformed. */
export interface TickBatch {
  ticks: Tick[]
  dropped: number
  /** A sample of the reasons rows were dropped, for the warning log. */
  dropReasons: string[]
}

/** A market-data source: one exchange (or the simulator). */
export interface Source {
  readonly id: SourceId
  /** The fastest poll interval the exchange's published rate limits allow for our request pattern. */
  readonly minPollMs: number
  /** Every market name the exchange lists (its own spelling, e.g. POLUSDT, POL-USDT, POL_USDT). */
  listMarkets(): Promise<Set<string>>
  /** Tickers for these markets, in one request wherever the exchange has an all-tickers endpoint. */
  fetchTickers(markets: readonly string[]): Promise<TickBatch>
  /** Up to `limit` most recent candles, returned oldest first. */
  fetchCandles(market: string, resolution: Resolution, limit: number): Promise<Candle[]>
  close(): Promise<void>
}

export type SourceErrorKind = 'timeout' | 'network' | 'http' | 'rate_limited' | 'invalid_json' | 'schema'

/** Why a request to a source failed. `retryAfterMs` is set from Retry-After on 429/418. */
export class SourceError extends Error {
  constructor(
    readonly source: SourceId,
    readonly kind: SourceErrorKind,
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(`${source}: ${message}`)
    this.name = 'SourceError'
  }
}

/** What every exchange adapter factory takes. */
export interface SourceOptions {
  /** Base URL override (scheme://host:port); the exchange's real paths follow. Default: the exchange's own. */
  baseUrl?: string
  timeoutMs: number
  metrics?: import('../metrics.js').Metrics
}
