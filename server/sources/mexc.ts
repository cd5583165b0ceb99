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
import type { Candle, Source, SourceOptions, TickBatch } from './source.js'

/**
 * MEXC spot (REST v3).
 * - tickers: GET /api/v3/ticker/24hr (all symbols, weight 40; a 24 h ticker). priceChangePercent is
 *   a fraction ("0.0173" = 1.73 %) of priceChange = lastPrice - openPrice; recorded responses have
 *   openPrice = prevClosePrice, used when openPrice is missing. volume is base, quoteVolume quote
 *   currency (the docs show it may be null); closeTime is the ts.
 * - markets: GET /api/v3/exchangeInfo, status "1" (online; older responses said "ENABLED").
 * - candles: GET /api/v3/klines?symbol&interval=5m|60m&limit (oldest first, max 1000). MEXC spells
 *   one hour "60m", not "1h".
 */

const ID = 'mexc'
const DEFAULT_BASE_URL = 'https://api.mexc.com'
/** 500 weight per 10 s per endpoint per IP; all tickers cost 40 → 800 ms. Floor 1 s. */
const MIN_POLL_MS = Math.max(1000, Math.ceil((10_000 * 40) / 500))
const MAX_KLINES = 1000
const INTERVAL: Record<Resolution, string> = { '5m': '5m', '1h': '60m' }
const ONLINE = new Set(['1', 'ENABLED'])

const TickerRow = z
  .object({
    symbol: z.string(),
    lastPrice: priceField,
    openPrice: optionalPrice,
    prevClosePrice: optionalPrice,
    highPrice: optionalPrice,
    lowPrice: optionalPrice,
    priceChangePercent: optionalNumber,
    volume: optionalAmount,
    quoteVolume: optionalAmount,
    closeTime: optionalMs,
  })
  .transform((r): TickFields => {
    const open = r.openPrice ?? r.prevClosePrice
    return {
      market: r.symbol,
      last: r.lastPrice,
      open24h: open,
      high24h: r.highPrice,
      low24h: r.lowPrice,
      changePercent24h:
        r.priceChangePercent !== null ? r.priceChangePercent * 100 : percentChange(r.lastPrice, open),
      baseVolume: r.volume,
      quoteVolume: r.quoteVolume,
      ts: r.closeTime,
    }
  })

const Rows = z.array(z.unknown())
const ExchangeInfoBody = z.object({ symbols: z.array(z.unknown()) })
const SymbolInfo = z.object({
  symbol: z.string(),
  status: z.union([z.string(), z.number()]).transform(String),
})

export function createMexcSource(opts: SourceOptions): Source {
  const { metrics } = opts
  const http = new HttpClient({
    source: ID,
    baseUrl: opts.baseUrl ?? DEFAULT_BASE_URL,
    timeoutMs: opts.timeoutMs,
    metrics,
  })

  return {
    id: ID,
    minPollMs: MIN_POLL_MS,

    async fetchTickers(markets: readonly string[]): Promise<TickBatch> {
      if (markets.length === 0) return { ticks: [], dropped: 0, dropReasons: [] }
      const body = await http.getJson('/api/v3/ticker/24hr', {}, 'tickers')
      const receivedAt = Date.now()
      const rows = parseEnvelope(ID, Rows, body, 'ticker/24hr', metrics)
      return parseTickRows(ID, TickerRow, selectRows(rows, markets, 'symbol'), { metrics, receivedAt })
    },

    async listMarkets(): Promise<Set<string>> {
      const body = await http.getJson('/api/v3/exchangeInfo', {}, 'markets')
      const { symbols } = parseEnvelope(ID, ExchangeInfoBody, body, 'exchangeInfo', metrics)
      const out = new Set<string>()
      for (const row of symbols) {
        const s = SymbolInfo.safeParse(row)
        if (s.success && ONLINE.has(s.data.status)) out.add(s.data.symbol)
      }
      return out
    },

    async fetchCandles(market: string, resolution: Resolution, limit: number): Promise<Candle[]> {
      const n = clampLimit(limit, MAX_KLINES)
      const body = await http.getJson(
        '/api/v3/klines',
        { symbol: market, interval: INTERVAL[resolution], limit: n },
        'candles',
      )
      const rows = parseEnvelope(ID, Rows, body, 'klines', metrics)
      return parseCandleRows(ID, ohlcvRow, rows, n, metrics)
    },

    close: () => http.close(),
  }
}
