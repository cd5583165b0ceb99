import { z } from 'zod'
import type { Resolution } from '../../shared/quote.js'
import { HttpClient } from './http.js'
import {
  clampLimit,
  optionalAmount,
  optionalNumber,
  optionalPrice,
  parseCandleRows,
  parseEnvelope,
  parseTickRows,
  priceField,
  selectRows,
  type TickFields,
  timeField,
} from './parse.js'
import type { Candle, Source, SourceOptions, TickBatch } from './source.js'

/**
 * Gate spot, API v4 (https://www.gate.com/docs/developers/apiv4/):
 * GET /api/v4/spot/tickers (every pair in one response), /api/v4/spot/currency_pairs,
 * /api/v4/spot/candlesticks. Tickers carry no timestamp and no open price.
 */
const SOURCE = 'gate' as const
const DEFAULT_BASE_URL = 'https://api.gateio.ws'
/** Gate answers at most 1000 candles per request. */
const MAX_CANDLES = 1000
const INTERVAL: Record<Resolution, string> = { '5m': '5m', '1h': '1h' }
/**
 * Public spot endpoints allow 200 requests per 10 s per endpoint and IP, so one tickers request
 * per poll could run every 50 ms; 1 s is our floor for every exchange (tickers refresh about that fast).
 */
const MIN_POLL_MS = 1000

const TickerRow = z
  .object({
    currency_pair: z.string(),
    last: priceField,
    high_24h: optionalPrice,
    low_24h: optionalPrice,
    change_percentage: optionalNumber,
    base_volume: optionalAmount,
    quote_volume: optionalAmount,
  })
  .transform(
    (r): TickFields => ({
      market: r.currency_pair,
      last: r.last,
      // Gate sends no open; one derived from the 2-decimal change_percentage would be approximate.
      open24h: null,
      high24h: r.high_24h,
      low24h: r.low_24h,
      // Already a percent over the rolling 24 h ("1.71" = 1.71 %).
      changePercent24h: r.change_percentage,
      baseVolume: r.base_volume,
      quoteVolume: r.quote_volume,
      ts: null,
    }),
  )

const CurrencyPair = z.object({ id: z.string(), trade_status: z.string() })

/** [t (s), quote volume, close, high, low, open, base volume, window closed]. */
const CandleRow = z
  .tuple(
    [timeField, z.unknown(), priceField, priceField, priceField, priceField, optionalAmount],
    z.unknown(),
  )
  .transform(
    ([t, , close, high, low, open, baseVolume]): Candle => ({
      ts: t * 1000,
      open,
      high,
      low,
      close,
      baseVolume,
    }),
  )

const RowArray = z.array(z.unknown())

export function createGateSource(opts: SourceOptions): Source {
  const http = new HttpClient({
    source: SOURCE,
    baseUrl: opts.baseUrl ?? DEFAULT_BASE_URL,
    timeoutMs: opts.timeoutMs,
    metrics: opts.metrics,
  })

  return {
    id: SOURCE,
    minPollMs: MIN_POLL_MS,

    async listMarkets() {
      const body = await http.getJson('/api/v4/spot/currency_pairs', {}, 'markets')
      const rows = parseEnvelope(SOURCE, RowArray, body, 'currency_pairs', opts.metrics)
      const markets = new Set<string>()
      for (const row of rows) {
        const pair = CurrencyPair.safeParse(row)
        if (pair.success && pair.data.trade_status === 'tradable') markets.add(pair.data.id)
      }
      return markets
    },

    async fetchTickers(markets): Promise<TickBatch> {
      if (markets.length === 0) return { ticks: [], dropped: 0, dropReasons: [] }
      const body = await http.getJson('/api/v4/spot/tickers', {}, 'tickers')
      const receivedAt = Date.now()
      const rows = parseEnvelope(SOURCE, RowArray, body, 'tickers', opts.metrics)
      return parseTickRows(SOURCE, TickerRow, selectRows(rows, markets, 'currency_pair'), {
        metrics: opts.metrics,
        receivedAt,
        marketField: 'currency_pair',
      })
    },

    async fetchCandles(market, resolution, limit) {
      const count = clampLimit(limit, MAX_CANDLES)
      const query = { currency_pair: market, interval: INTERVAL[resolution], limit: count }
      const body = await http.getJson('/api/v4/spot/candlesticks', query, 'candles')
      const rows = parseEnvelope(SOURCE, RowArray, body, 'candlesticks', opts.metrics)
      return parseCandleRows(SOURCE, CandleRow, rows, count, opts.metrics)
    },

    close: () => http.close(),
  }
}
