import { z } from 'zod'
import type { Resolution } from '../../shared/quote.js'
import { HttpClient } from './http.js'
import {
  clampLimit,
  ohlcvRow,
  optionalAmount,
  optionalMs,
  optionalPrice,
  parseCandleRows,
  parseEnvelope,
  parseTickRows,
  percentChange,
  priceField,
  selectRows,
  type TickFields,
} from './parse.js'
import { type Candle, type Source, SourceError, type SourceOptions, type TickBatch } from './source.js'

/**
 * OKX (REST v5), spot instruments.
 * - tickers: GET /api/v5/market/tickers?instType=SPOT (all spot tickers, 20 requests / 2 s per IP).
 *   open24h is the open 24 h ago (sodUtc0/sodUtc8 are the since-midnight ones, unused); there is no
 *   change field, so the percent comes from last vs open24h. For SPOT, vol24h is in base currency and
 *   volCcy24h in quote currency.
 * - markets: GET /api/v5/public/instruments?instType=SPOT, state "live" only.
 * - candles: GET /api/v5/market/candles?instId&bar=5m|1H&limit (newest first, max 300).
 * Every body is { code: "0", msg, data }; any other code is an error even with HTTP 200.
 */

const ID = 'okx'
const DEFAULT_BASE_URL = 'https://www.okx.com'
/** 20 requests per 2 s per IP for market/tickers → 100 ms; floor 1 s. */
const MIN_POLL_MS = Math.max(1000, Math.ceil(2000 / 20))
const MAX_CANDLES = 300
const BAR: Record<Resolution, string> = { '5m': '5m', '1h': '1H' }
/** OKX's "too many requests" code, sent with HTTP 429 or 200. */
const RATE_LIMIT_CODE = '50011'

/** One ticker row; the `tickers` WebSocket channel pushes the same rows (streams/okx.ts). */
export const TickerRow = z
  .object({
    instId: z.string(),
    last: priceField,
    open24h: optionalPrice,
    high24h: optionalPrice,
    low24h: optionalPrice,
    vol24h: optionalAmount,
    volCcy24h: optionalAmount,
    ts: optionalMs,
  })
  .transform(
    (r): TickFields => ({
      market: r.instId,
      last: r.last,
      open24h: r.open24h,
      high24h: r.high24h,
      low24h: r.low24h,
      changePercent24h: percentChange(r.last, r.open24h),
      baseVolume: r.vol24h,
      quoteVolume: r.volCcy24h,
      ts: r.ts,
    }),
  )

const Envelope = z.object({
  code: z.union([z.string(), z.number()]).transform(String),
  msg: z.string().optional(),
  data: z.unknown(),
})
const Rows = z.array(z.unknown())
const Instrument = z.object({ instId: z.string(), state: z.string() })

export function createOkxSource(opts: SourceOptions): Source {
  const { metrics } = opts
  const http = new HttpClient({
    source: ID,
    baseUrl: opts.baseUrl ?? DEFAULT_BASE_URL,
    timeoutMs: opts.timeoutMs,
    metrics,
  })

  /** GET, check the envelope, return its data rows. */
  async function getRows(
    path: string,
    query: Record<string, string | number>,
    endpoint: string,
  ): Promise<unknown[]> {
    const body = await http.getJson(path, query, endpoint)
    const env = parseEnvelope(ID, Envelope, body, path, metrics)
    if (env.code === RATE_LIMIT_CODE) {
      metrics?.sourceErrors.inc({ source: ID, kind: 'rate_limited' })
      throw new SourceError(ID, 'rate_limited', `code ${env.code} on ${path}: ${env.msg ?? ''}`)
    }
    if (env.code !== '0') {
      metrics?.sourceErrors.inc({ source: ID, kind: 'schema' })
      throw new SourceError(ID, 'schema', `code ${env.code} on ${path}: ${env.msg ?? ''}`)
    }
    return parseEnvelope(ID, Rows, env.data, `${path} data`, metrics)
  }

  return {
    id: ID,
    minPollMs: MIN_POLL_MS,

    async fetchTickers(markets: readonly string[]): Promise<TickBatch> {
      if (markets.length === 0) return { ticks: [], dropped: 0, dropReasons: [] }
      const rows = await getRows('/api/v5/market/tickers', { instType: 'SPOT' }, 'tickers')
      const receivedAt = Date.now()
      return parseTickRows(ID, TickerRow, selectRows(rows, markets, 'instId'), {
        metrics,
        receivedAt,
        marketField: 'instId',
      })
    },

    async listMarkets(): Promise<Set<string>> {
      const rows = await getRows('/api/v5/public/instruments', { instType: 'SPOT' }, 'markets')
      const out = new Set<string>()
      for (const row of rows) {
        const i = Instrument.safeParse(row)
        if (i.success && i.data.state === 'live') out.add(i.data.instId)
      }
      return out
    },

    async fetchCandles(market: string, resolution: Resolution, limit: number): Promise<Candle[]> {
      const n = clampLimit(limit, MAX_CANDLES)
      const rows = await getRows(
        '/api/v5/market/candles',
        { instId: market, bar: BAR[resolution], limit: n },
        'candles',
      )
      return parseCandleRows(ID, ohlcvRow, rows, n, metrics)
    },

    close: () => http.close(),
  }
}
