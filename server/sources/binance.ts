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
 * Binance spot (REST v3).
 * - tickers: GET /api/v3/ticker/24hr?symbols=[...] (weight 2 for 1-20 symbols, 40 up to 100), or
 *   without symbols (all tickers, weight 80) for more than 100 markets. Rolling 24 h window:
 *   openPrice is the open 24 h ago, priceChangePercent is already a percent, closeTime is the ts.
 * - markets: GET /api/v3/exchangeInfo?symbolStatus=TRADING&showPermissionSets=false
 * - candles: GET /api/v3/klines?symbol&interval=5m|1h&limit (oldest first, max 1000)
 */

const ID = 'binance'
const DEFAULT_BASE_URL = 'https://api.binance.com'
/** 6000 request weight per minute per IP; the heaviest ticker form costs 80 → 800 ms. Floor 1 s. */
const MIN_POLL_MS = Math.max(1000, Math.ceil((60_000 * 80) / 6000))
/** Above this many symbols the symbols= form costs as much as all tickers. */
const MAX_SYMBOLS_PARAM = 100
const MAX_KLINES = 1000
const INTERVAL: Record<Resolution, string> = { '5m': '5m', '1h': '1h' }

const TickerRow = z
  .object({
    symbol: z.string(),
    lastPrice: priceField,
    openPrice: optionalPrice,
    highPrice: optionalPrice,
    lowPrice: optionalPrice,
    priceChangePercent: optionalNumber,
    volume: optionalAmount,
    quoteVolume: optionalAmount,
    closeTime: optionalMs,
  })
  .transform(
    (r): TickFields => ({
      market: r.symbol,
      last: r.lastPrice,
      open24h: r.openPrice,
      high24h: r.highPrice,
      low24h: r.lowPrice,
      changePercent24h: r.priceChangePercent ?? percentChange(r.lastPrice, r.openPrice),
      baseVolume: r.volume,
      quoteVolume: r.quoteVolume,
      ts: r.closeTime,
    }),
  )

const TickersBody = z.array(z.unknown())
const KlinesBody = z.array(z.unknown())
const ExchangeInfoBody = z.object({ symbols: z.array(z.unknown()) })
const SymbolInfo = z.object({
  symbol: z.string(),
  status: z.string(),
  isSpotTradingAllowed: z.boolean().optional(),
})

export function createBinanceSource(opts: SourceOptions): Source {
  const { metrics } = opts
  const http = new HttpClient({
    source: ID,
    baseUrl: opts.baseUrl ?? DEFAULT_BASE_URL,
    timeoutMs: opts.timeoutMs,
    metrics,
  })

  async function getTickers(markets: readonly string[]): Promise<unknown> {
    if (markets.length > MAX_SYMBOLS_PARAM) return http.getJson('/api/v3/ticker/24hr', {}, 'tickers')
    const symbols = JSON.stringify([...new Set(markets)].sort())
    try {
      return await http.getJson('/api/v3/ticker/24hr', { symbols }, 'tickers')
    } catch (err) {
      // Binance rejects the whole symbols= request (HTTP 400, -1121) when one symbol is unknown,
      // e.g. after a delisting; the all-tickers form still serves the others.
      if (err instanceof SourceError && err.kind === 'http' && err.status === 400) {
        return http.getJson('/api/v3/ticker/24hr', {}, 'tickers')
      }
      throw err
    }
  }

  return {
    id: ID,
    minPollMs: MIN_POLL_MS,

    async fetchTickers(markets: readonly string[]): Promise<TickBatch> {
      if (markets.length === 0) return { ticks: [], dropped: 0, dropReasons: [] }
      const body = await getTickers(markets)
      const receivedAt = Date.now()
      const rows = parseEnvelope(ID, TickersBody, body, 'ticker/24hr', metrics)
      return parseTickRows(ID, TickerRow, selectRows(rows, markets, 'symbol'), { metrics, receivedAt })
    },

    async listMarkets(): Promise<Set<string>> {
      const body = await http.getJson(
        '/api/v3/exchangeInfo',
        { symbolStatus: 'TRADING', showPermissionSets: 'false' },
        'markets',
      )
      const { symbols } = parseEnvelope(ID, ExchangeInfoBody, body, 'exchangeInfo', metrics)
      const out = new Set<string>()
      for (const row of symbols) {
        const s = SymbolInfo.safeParse(row)
        if (s.success && s.data.status === 'TRADING' && s.data.isSpotTradingAllowed !== false)
          out.add(s.data.symbol)
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
      const rows = parseEnvelope(ID, KlinesBody, body, 'klines', metrics)
      return parseCandleRows(ID, ohlcvRow, rows, n, metrics)
    },

    close: () => http.close(),
  }
}
