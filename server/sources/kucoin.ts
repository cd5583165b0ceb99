import { z } from 'zod'
import type { Resolution } from '../../shared/quote.js'
import type { Metrics } from '../metrics.js'
import { HttpClient } from './http.js'
import {
  clampLimit,
  optionalAmount,
  optionalMs,
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
import { type Candle, type Source, SourceError, type SourceOptions, type TickBatch } from './source.js'

/**
 * KuCoin spot (https://www.kucoin.com/docs-new): GET /api/v1/market/allTickers (every symbol in
 * one response, with one response-level `time`), /api/v2/symbols, /api/v1/market/candles.
 * Every body is wrapped in { code: "200000", data }; any other code is an error.
 */
const SOURCE = 'kucoin' as const
const DEFAULT_BASE_URL = 'https://api.kucoin.com'
/** KuCoin answers at most 1500 candles per request. */
const MAX_CANDLES = 1500
const CANDLE_TYPE: Record<Resolution, string> = { '5m': '5min', '1h': '1hour' }
const CANDLE_SECONDS: Record<Resolution, number> = { '5m': 300, '1h': 3600 }
/**
 * The public pool is 2000 weight per 30 s per IP and allTickers weighs 15 (one request every
 * 225 ms at most); 1 s is our floor for every exchange.
 */
const MIN_POLL_MS = 1000
const OK_CODE = '200000'

function tickerRow(ts: number | null) {
  return z
    .object({
      symbol: z.string(),
      last: priceField,
      high: optionalPrice,
      low: optionalPrice,
      changeRate: optionalNumber,
      changePrice: optionalNumber,
      vol: optionalAmount,
      volValue: optionalAmount,
    })
    .transform((r): TickFields => {
      // KuCoin's 24 h stats are rolling, so last - changePrice is the price 24 h ago.
      const open = r.changePrice === null ? null : r.last - r.changePrice
      return {
        market: r.symbol,
        last: r.last,
        open24h: open !== null && Number.isFinite(open) && open > 0 ? open : null,
        high24h: r.high,
        low24h: r.low,
        // changeRate is a fraction ("0.0089" = 0.89 %).
        changePercent24h: r.changeRate === null ? null : r.changeRate * 100,
        baseVolume: r.vol,
        quoteVolume: r.volValue,
        ts,
      }
    })
}

const Head = z.object({ code: z.union([z.string(), z.number()]), msg: z.unknown().optional() })
const AllTickers = z.object({ data: z.object({ time: optionalMs, ticker: z.array(z.unknown()) }) })
const RowList = z.object({ data: z.array(z.unknown()) })
const SymbolRow = z.object({ symbol: z.string(), enableTrading: z.boolean() })

/** [t (s), open, close, high, low, volume, turnover], newest first. */
const CandleRow = z
  .tuple([timeField, priceField, priceField, priceField, priceField, optionalAmount], z.unknown())
  .transform(
    ([t, open, close, high, low, baseVolume]): Candle => ({
      ts: t * 1000,
      open,
      high,
      low,
      close,
      baseVolume,
    }),
  )

export function createKucoinSource(opts: SourceOptions): Source {
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
      const body = await http.getJson('/api/v2/symbols', {}, 'markets')
      const { data } = unwrap(RowList, body, 'symbols', opts.metrics)
      const markets = new Set<string>()
      for (const row of data) {
        const symbol = SymbolRow.safeParse(row)
        if (symbol.success && symbol.data.enableTrading) markets.add(symbol.data.symbol)
      }
      return markets
    },

    async fetchTickers(markets): Promise<TickBatch> {
      if (markets.length === 0) return { ticks: [], dropped: 0, dropReasons: [] }
      const body = await http.getJson('/api/v1/market/allTickers', {}, 'tickers')
      const receivedAt = Date.now()
      const { data } = unwrap(AllTickers, body, 'allTickers', opts.metrics)
      return parseTickRows(SOURCE, tickerRow(data.time), selectRows(data.ticker, markets, 'symbol'), {
        metrics: opts.metrics,
        receivedAt,
        marketField: 'symbol',
      })
    },

    async fetchCandles(market, resolution, limit) {
      const count = clampLimit(limit, MAX_CANDLES)
      // No limit parameter: ask for the time range that holds `count` candles (plus the open one).
      const endAt = Math.floor(Date.now() / 1000)
      const startAt = endAt - count * CANDLE_SECONDS[resolution]
      const query = { type: CANDLE_TYPE[resolution], symbol: market, startAt, endAt }
      const body = await http.getJson('/api/v1/market/candles', query, 'candles')
      const { data } = unwrap(RowList, body, 'candles', opts.metrics)
      return parseCandleRows(SOURCE, CandleRow, data, count, opts.metrics)
    },

    close: () => http.close(),
  }
}

/** Checks KuCoin's { code, msg } head (code "200000" = success), then the body's shape. */
function unwrap<S extends z.ZodType>(
  schema: S,
  body: unknown,
  what: string,
  metrics: Metrics | undefined,
): z.output<S> {
  const head = parseEnvelope(SOURCE, Head, body, what, metrics)
  if (String(head.code) !== OK_CODE) {
    const msg = typeof head.msg === 'string' ? `: ${head.msg.slice(0, 120)}` : ''
    metrics?.sourceErrors.inc({ source: SOURCE, kind: 'schema' })
    throw new SourceError(SOURCE, 'schema', `${what}: error code ${head.code}${msg}`)
  }
  return parseEnvelope(SOURCE, schema, body, what, metrics)
}
