import { z } from 'zod'
import type { Resolution } from '../../shared/quote.js'
import { HttpClient } from './http.js'
import {
  clampLimit,
  optionalAmount,
  optionalIsoMs,
  optionalPrice,
  parseCandleRows,
  parseEnvelope,
  parseTickRows,
  percentChange,
  priceField,
  type TickFields,
  timeField,
} from './parse.js'
import { type Candle, type Source, SourceError, type SourceOptions, type TickBatch } from './source.js'

/**
 * Coinbase Exchange (https://docs.cdp.coinbase.com/exchange/): no all-tickers endpoint, so each
 * product costs two requests per poll: GET /products/{id}/stats (rolling 24 h open/high/low/volume)
 * and /products/{id}/ticker (last trade price and its time). Markets: GET /products. Candles:
 * GET /products/{id}/candles, rows [t (s), low, high, open, close, volume], newest first.
 */
const SOURCE = 'coinbase' as const
const DEFAULT_BASE_URL = 'https://api.exchange.coinbase.com'
/** Coinbase answers at most 300 candles per request. */
const MAX_CANDLES = 300
const GRANULARITY: Record<Resolution, number> = { '5m': 300, '1h': 3600 }
/** Requests in flight at once, across all products. */
const CONCURRENCY = 4
const REQUESTS_PER_PRODUCT = 2
/**
 * Public endpoints allow 10 requests per second per IP (bursts of 15). We budget 6/s for tickers,
 * leaving room for candles and listMarkets.
 */
const TICKER_REQUESTS_PER_SECOND = 6
/** Until the first fetchTickers call: the default registry's Coinbase products. */
const DEFAULT_PRODUCT_COUNT = 4
const MIN_POLL_FLOOR_MS = 1000

const ProductRow = z
  .object({
    product: z.string(),
    stats: z.object({ open: optionalPrice, high: optionalPrice, low: optionalPrice, volume: optionalAmount }),
    ticker: z.object({ price: priceField, volume: optionalAmount, time: optionalIsoMs }),
  })
  .transform(({ product, stats, ticker }): TickFields => {
    const last = ticker.price
    const baseVolume = ticker.volume ?? stats.volume
    return {
      market: product,
      last,
      // The stats window is a rolling 24 h, so its open is the price 24 h ago.
      open24h: stats.open,
      high24h: stats.high,
      low24h: stats.low,
      changePercent24h: percentChange(last, stats.open),
      baseVolume,
      // No quote volume is published: base volume × last price is an estimate.
      quoteVolume: baseVolume === null ? null : baseVolume * last,
      ts: ticker.time,
    }
  })

const Product = z.object({ id: z.string(), status: z.string(), trading_disabled: z.boolean().optional() })

/** [t (s), low, high, open, close, volume]. */
const CandleRow = z
  .tuple([timeField, priceField, priceField, priceField, priceField, optionalAmount], z.unknown())
  .transform(
    ([t, low, high, open, close, baseVolume]): Candle => ({
      ts: t * 1000,
      open,
      high,
      low,
      close,
      baseVolume,
    }),
  )

const RowArray = z.array(z.unknown())

export function createCoinbaseSource(opts: SourceOptions): Source {
  const http = new HttpClient({
    source: SOURCE,
    baseUrl: opts.baseUrl ?? DEFAULT_BASE_URL,
    timeoutMs: opts.timeoutMs,
    metrics: opts.metrics,
    connections: CONCURRENCY,
  })
  const limit = concurrencyLimit(CONCURRENCY)
  let productCount = DEFAULT_PRODUCT_COUNT

  async function fetchProduct(product: string): Promise<unknown> {
    const path = `/products/${encodeURIComponent(product)}`
    // Both settle before the product counts as done, so no request outlives its poll.
    const [stats, ticker] = await Promise.allSettled([
      limit(() => http.getJson(`${path}/stats`, {}, 'tickers')),
      limit(() => http.getJson(`${path}/ticker`, {}, 'tickers')),
    ])
    if (stats.status === 'rejected') throw stats.reason
    if (ticker.status === 'rejected') throw ticker.reason
    return { product, stats: stats.value, ticker: ticker.value }
  }

  return {
    id: SOURCE,
    /** Grows with the number of products polled: 2 requests each within the per-second budget. */
    get minPollMs() {
      const perPoll = productCount * REQUESTS_PER_PRODUCT
      return Math.max(MIN_POLL_FLOOR_MS, Math.ceil((perPoll * 1000) / TICKER_REQUESTS_PER_SECOND))
    },

    async listMarkets() {
      const body = await http.getJson('/products', {}, 'markets')
      const rows = parseEnvelope(SOURCE, RowArray, body, 'products', opts.metrics)
      const markets = new Set<string>()
      for (const row of rows) {
        const p = Product.safeParse(row)
        if (p.success && p.data.status === 'online' && p.data.trading_disabled !== true)
          markets.add(p.data.id)
      }
      return markets
    },

    async fetchTickers(markets): Promise<TickBatch> {
      const products = [...new Set(markets)]
      if (products.length === 0) return { ticks: [], dropped: 0, dropReasons: [] }
      productCount = products.length
      const settled = await Promise.allSettled(products.map(fetchProduct))
      const receivedAt = Date.now()
      const rows: unknown[] = []
      const errors: SourceError[] = []
      for (const result of settled) {
        if (result.status === 'fulfilled') rows.push(result.value)
        else errors.push(asSourceError(result.reason))
      }
      // A rate limit or a total failure fails the poll (the scheduler backs off); a product that
      // alone fails (e.g. delisted, 404) is left out (HttpClient counts it in sourceErrors).
      const rateLimited = errors.find((e) => e.kind === 'rate_limited')
      if (rateLimited) throw rateLimited
      if (rows.length === 0 && errors[0]) throw errors[0]
      return parseTickRows(SOURCE, ProductRow, rows, {
        metrics: opts.metrics,
        receivedAt,
        marketField: 'product',
      })
    },

    async fetchCandles(market, resolution, count) {
      const wanted = clampLimit(count, MAX_CANDLES)
      // Without start/end Coinbase returns the most recent 300 candles.
      const query = { granularity: GRANULARITY[resolution] }
      const body = await http.getJson(`/products/${encodeURIComponent(market)}/candles`, query, 'candles')
      const rows = parseEnvelope(SOURCE, RowArray, body, 'candles', opts.metrics)
      return parseCandleRows(SOURCE, CandleRow, rows, wanted, opts.metrics)
    },

    close: () => http.close(),
  }
}

/** Runs at most `max` tasks at once; the others wait in order. A finishing task hands its slot over. */
function concurrencyLimit(max: number) {
  let active = 0
  const waiting: Array<() => void> = []
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (active < max) active++
    else await new Promise<void>((resolve) => waiting.push(resolve))
    try {
      return await task()
    } finally {
      const next = waiting.shift()
      if (next) next()
      else active--
    }
  }
}

function asSourceError(err: unknown): SourceError {
  if (err instanceof SourceError) return err
  return new SourceError(SOURCE, 'network', err instanceof Error ? err.message : String(err))
}
