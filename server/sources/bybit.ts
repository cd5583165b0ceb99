import { z } from 'zod'
import type { Resolution } from '../../shared/quote.js'
import { HttpClient } from './http.js'
import {
  clampLimit,
  ohlcvRow,
  optionalAmount,
  optionalMs,
  optionalNumber,
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
 * Bybit (REST v5), category=spot.
 * - tickers: GET /v5/market/tickers?category=spot (all spot tickers). prevPrice24h is the price
 *   24 h ago, price24hPcnt a fraction (0.0068 = 0.68 %), volume24h in base and turnover24h in quote
 *   currency. Rows carry no timestamp: the response-level `time` is used.
 * - markets: GET /v5/market/instruments-info?category=spot (spot is not paginated), status "Trading".
 * - candles: GET /v5/market/kline?category=spot&symbol&interval=5|60&limit (newest first, max 1000).
 * Every body is { retCode: 0, retMsg, result, time }; any other retCode is an error even with HTTP 200.
 */

const ID = 'bybit'
const DEFAULT_BASE_URL = 'https://api.bybit.com'
/** 600 requests per 5 s per IP across market endpoints → 9 ms; floor 1 s. */
const MIN_POLL_MS = Math.max(1000, Math.ceil(5000 / 600))
const MAX_CANDLES = 1000
const INTERVAL: Record<Resolution, string> = { '5m': '5', '1h': '60' }
/** Bybit's "too many visits" retCode, sent with HTTP 200. */
const RATE_LIMIT_CODE = 10006

/** One spot ticker row stamped `ts`; the `tickers.<symbol>` WebSocket topic pushes the same fields (streams/bybit.ts). */
export const tickerRow = (ts: number | null) =>
  z
    .object({
      symbol: z.string(),
      lastPrice: priceField,
      prevPrice24h: optionalPrice,
      highPrice24h: optionalPrice,
      lowPrice24h: optionalPrice,
      price24hPcnt: optionalNumber,
      volume24h: optionalAmount,
      turnover24h: optionalAmount,
    })
    .transform(
      (r): TickFields => ({
        market: r.symbol,
        last: r.lastPrice,
        open24h: r.prevPrice24h,
        high24h: r.highPrice24h,
        low24h: r.lowPrice24h,
        changePercent24h:
          r.price24hPcnt !== null ? r.price24hPcnt * 100 : percentChange(r.lastPrice, r.prevPrice24h),
        baseVolume: r.volume24h,
        quoteVolume: r.turnover24h,
        ts,
      }),
    )

const Envelope = z.object({
  retCode: z.union([
    z.number().int(),
    z
      .string()
      .regex(/^-?\d+$/)
      .transform(Number),
  ]),
  retMsg: z.string().optional(),
  result: z.unknown(),
  time: optionalMs,
})
const ListResult = z.object({ list: z.array(z.unknown()) })
const Instrument = z.object({ symbol: z.string(), status: z.string() })

export function createBybitSource(opts: SourceOptions): Source {
  const { metrics } = opts
  const http = new HttpClient({
    source: ID,
    baseUrl: opts.baseUrl ?? DEFAULT_BASE_URL,
    timeoutMs: opts.timeoutMs,
    metrics,
  })

  /** GET, check the envelope, return result.list and the response time. */
  async function getList(
    path: string,
    query: Record<string, string | number>,
    endpoint: string,
  ): Promise<{ list: unknown[]; time: number | null }> {
    const body = await http.getJson(path, query, endpoint)
    const env = parseEnvelope(ID, Envelope, body, path, metrics)
    if (env.retCode === RATE_LIMIT_CODE) {
      metrics?.sourceErrors.inc({ source: ID, kind: 'rate_limited' })
      throw new SourceError(ID, 'rate_limited', `retCode ${env.retCode} on ${path}: ${env.retMsg ?? ''}`)
    }
    if (env.retCode !== 0) {
      metrics?.sourceErrors.inc({ source: ID, kind: 'schema' })
      throw new SourceError(ID, 'schema', `retCode ${env.retCode} on ${path}: ${env.retMsg ?? ''}`)
    }
    const { list } = parseEnvelope(ID, ListResult, env.result, `${path} result`, metrics)
    return { list, time: env.time }
  }

  return {
    id: ID,
    minPollMs: MIN_POLL_MS,

    async fetchTickers(markets: readonly string[]): Promise<TickBatch> {
      if (markets.length === 0) return { ticks: [], dropped: 0, dropReasons: [] }
      const { list, time } = await getList('/v5/market/tickers', { category: 'spot' }, 'tickers')
      const receivedAt = Date.now()
      return parseTickRows(ID, tickerRow(time), selectRows(list, markets, 'symbol'), { metrics, receivedAt })
    },

    async listMarkets(): Promise<Set<string>> {
      const { list } = await getList('/v5/market/instruments-info', { category: 'spot' }, 'markets')
      const out = new Set<string>()
      for (const row of list) {
        const i = Instrument.safeParse(row)
        if (i.success && i.data.status === 'Trading') out.add(i.data.symbol)
      }
      return out
    },

    async fetchCandles(market: string, resolution: Resolution, limit: number): Promise<Candle[]> {
      const n = clampLimit(limit, MAX_CANDLES)
      const { list } = await getList(
        '/v5/market/kline',
        { category: 'spot', symbol: market, interval: INTERVAL[resolution], limit: n },
        'candles',
      )
      return parseCandleRows(ID, ohlcvRow, list, n, metrics)
    },

    close: () => http.close(),
  }
}
