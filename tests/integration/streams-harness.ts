import { parseRegistry } from '../../server/assets.js'
import { configFrom } from '../../server/config.js'
import type { AppContext } from '../../server/context.js'
import type { Engine, QuoteBatch } from '../../server/engine/engine.js'
import { MemoryEngine } from '../../server/engine/memory.js'
import { createIngest, type Ingest, type StreamTuning } from '../../server/ingest/ingest.js'
import { createMetrics, type Metrics } from '../../server/metrics.js'
import type { AssetRegistryFile } from '../../shared/asset.js'
import type { Quote } from '../../shared/quote.js'
import { FakeExchange } from '../helpers/fake-exchange.js'
import {
  binanceDialect,
  bybitDialect,
  coinbaseDialect,
  FakeExchangeWs,
  krakenDialect,
  okxDialect,
  type WsDialect,
} from '../helpers/fake-exchange-ws.js'
import {
  binanceFake,
  bybitFake,
  captureLogger,
  krakenFake,
  TEST_ENV,
  type Venue,
  venue,
} from './ingest-exchanges.js'

/**
 * The stream tests' world: one exchange faked twice, by a real local HTTP server (REST: market
 * list, tickers, candles) and a real local WebSocket server (its stream format), both reading one
 * mutable venue, and the real ingest on them with the exchange's stream on.
 */

export type StreamedId = 'binance' | 'okx' | 'bybit' | 'kraken' | 'coinbase'

/** Whether a REST request path is a ticker request (their count tells the polling rate). */
const IS_TICKER_REQUEST: Record<StreamedId, (path: string) => boolean> = {
  binance: (p) => p === '/api/v3/ticker/24hr',
  okx: (p) => p === '/api/v5/market/tickers',
  bybit: (p) => p === '/v5/market/tickers',
  kraken: (p) => p === '/0/public/Ticker',
  // Two requests per product per poll: the ticker half counts one poll.
  coinbase: (p) => p.startsWith('/products/') && p.endsWith('/ticker'),
}

const DIALECTS: Record<StreamedId, WsDialect> = {
  binance: binanceDialect,
  okx: okxDialect,
  bybit: bybitDialect,
  kraken: krakenDialect,
  coinbase: coinbaseDialect,
}

/** Kraken and Coinbase markets are quoted in USD here, the others in USDT. */
const QUOTE: Record<StreamedId, 'USD' | 'USDT'> = {
  binance: 'USDT',
  okx: 'USDT',
  bybit: 'USDT',
  kraken: 'USD',
  coinbase: 'USD',
}

/** The market name of `base` (in its quote currency) on each exchange. */
export const marketOf = (id: StreamedId, base: string): string =>
  id === 'okx' || id === 'coinbase' ? `${base}-${QUOTE[id]}` : `${base}${QUOTE[id]}`

/** OKX REST v5: instruments, tickers and candles in its { code, msg, data } envelope. */
export function okxFake(v: Venue): FakeExchange {
  const ok = (data: unknown) => ({ kind: 'json' as const, body: { code: '0', msg: '', data } })
  const listed = () => v.listed ?? new Set(v.markets.keys())
  return new FakeExchange({
    '/api/v5/public/instruments': () =>
      ok([...listed()].map((instId) => ({ instId, state: 'live', instType: 'SPOT' }))),
    '/api/v5/market/tickers': () =>
      v.tickerFault?.() ??
      ok(
        [...v.markets]
          .filter(([k]) => listed().has(k))
          .map(([instId, m]) => ({
            instType: 'SPOT',
            instId,
            last: String(m.price),
            open24h: String(m.price),
            high24h: String(m.price * 1.02),
            low24h: String(m.price * 0.98),
            vol24h: String(m.baseVolume),
            volCcy24h: String(m.baseVolume * m.price),
            ts: String(Date.now()),
          })),
      ),
    '/api/v5/market/candles': ({ query }) => {
      const market = query.get('instId') ?? ''
      const step = query.get('bar') === '1H' ? 3_600_000 : 300_000
      const n = Math.min(300, Number(query.get('limit')) || 1)
      const now = Math.floor(Date.now() / step) * step
      const rows = Array.from({ length: n }, (_, i) => {
        const ts = now - i * step
        const c = String(v.candle(market, ts, step === 300_000 ? '5m' : '1h'))
        return [String(ts), c, c, c, c, '1000', '1000', '1000', '1']
      })
      return ok(rows)
    },
  })
}

/** Coinbase Exchange REST: /products, and per product /stats, /ticker and /candles. */
export function coinbaseFake(v: Venue): FakeExchange {
  const fake = new FakeExchange({
    '/products': () => ({
      kind: 'json',
      body: [...v.markets.keys()].map((id) => ({ id, status: 'online', trading_disabled: false })),
    }),
  })
  for (const product of v.markets.keys()) {
    const m = () => v.markets.get(product)!
    fake.route(`/products/${product}/stats`, () => ({
      kind: 'json',
      body: {
        open: String(m().price),
        high: String(m().price * 1.02),
        low: String(m().price * 0.98),
        volume: String(m().baseVolume),
        last: String(m().price),
      },
    }))
    fake.route(`/products/${product}/ticker`, () => ({
      kind: 'json',
      body: { price: String(m().price), volume: String(m().baseVolume), time: new Date().toISOString() },
    }))
    fake.route(`/products/${product}/candles`, ({ query }) => {
      const step = Number(query.get('granularity')) || 300
      const now = Math.floor(Date.now() / 1000 / step) * step
      const rows = Array.from({ length: 300 }, (_, i) => {
        const t = now - i * step
        const c = v.candle(product, t * 1000, step === 300 ? '5m' : '1h')
        return [t, c, c, c, c, 1000]
      })
      return { kind: 'json', body: rows }
    })
  }
  return fake
}

const REST_FAKES: Record<StreamedId, (v: Venue) => FakeExchange> = {
  binance: binanceFake,
  okx: okxFake,
  bybit: bybitFake,
  kraken: krakenFake,
  coinbase: coinbaseFake,
}

/** A registry of one asset per base, each with one market on `id`. */
export function registryOn(id: StreamedId, bases: readonly string[]): AssetRegistryFile {
  return {
    assets: bases.map((base) => ({
      id: base.toLowerCase(),
      symbol: base,
      name: base,
      markets: [{ source: id, symbol: marketOf(id, base), quote: QUOTE[id] }],
    })),
  }
}

export interface Pump {
  /** The last price pushed (NaN before the first). */
  last(): number
  /** How many pushes so far. */
  count(): number
  stop(): void
}

export interface StreamHarness {
  id: StreamedId
  ingest: Ingest
  metrics: Metrics
  lines: Record<string, unknown>[]
  rest: FakeExchange
  ws: FakeExchangeWs
  venue: Venue
  batches: QuoteBatch[]
  quotesOf(asset: string): Quote[]
  /** REST ticker requests so far (optionally since `since`). */
  tickerRequests(since?: number): number
  /** Sets a market's price on the venue (REST) and pushes it on the stream. */
  push(market: string, price: number): void
  /** Pushes `market` every `intervalMs` with prices from `priceOf(n)` (n = 1, 2, …), venue kept in step. */
  pump(market: string, intervalMs: number, priceOf: (n: number) => number): Pump
  metric(name: keyof Metrics, labels?: Record<string, string>): Promise<number>
  close(): Promise<void>
}

export const STREAM_ENV = {
  ...TEST_ENV,
  PRICEWIRE_STALE_MS: '10000',
  PRICEWIRE_RECONCILE_MS: '1000',
  PRICEWIRE_STREAM_SILENCE_MS: '400',
}

/** Short reconnect backoff so that reconnect tests take milliseconds, not seconds. */
export const FAST_TUNING: StreamTuning = { backoff: { baseMs: 50, maxMs: 200 } }

export async function startStreamHarness(opts: {
  id: StreamedId
  bases?: readonly string[]
  price?: number
  env?: Record<string, string>
  tuning?: StreamTuning
  /** A shared engine (several nodes); default: a fresh memory engine. */
  engine?: Engine
  nodeId?: string
}): Promise<StreamHarness> {
  const { id } = opts
  const bases = opts.bases ?? ['POL']
  const price = opts.price ?? 0.25
  const v = venue(
    Object.fromEntries(bases.map((b) => [marketOf(id, b), { price, baseVolume: 1_000_000 }])),
    () => price,
  )
  const rest = await REST_FAKES[id](v).start()
  const ws = await new FakeExchangeWs(DIALECTS[id]).start()
  const config = configFrom({
    ...STREAM_ENV,
    PRICEWIRE_SOURCES: id,
    PRICEWIRE_NODE_ID: opts.nodeId ?? 'node-a',
    [`PRICEWIRE_SOURCE_URL_${id.toUpperCase()}`]: rest.url,
    [`PRICEWIRE_SOURCE_WS_URL_${id.toUpperCase()}`]: ws.url,
    ...opts.env,
  })
  const { logger, lines } = captureLogger()
  const engine = opts.engine ?? new MemoryEngine()
  if (!opts.engine) await engine.start()
  const metrics = createMetrics()
  const registry = parseRegistry(registryOn(id, bases), 'test')
  const ctx: AppContext = { config, logger, engine, registry, metrics }
  const batches: QuoteBatch[] = []
  const unsubscribe = engine.subscribe((b) => batches.push(b))
  const ingest = createIngest(ctx, {
    breaker: { threshold: 3, coolDownMs: 400 },
    streamTuning: { ...FAST_TUNING, ...opts.tuning },
  })
  await ingest.start()
  const pumps: NodeJS.Timeout[] = []
  const h: StreamHarness = {
    id,
    ingest,
    metrics,
    lines,
    rest,
    ws,
    venue: v,
    batches,
    quotesOf: (asset) => batches.flatMap((b) => b.quotes.filter((q) => q.asset === asset)),
    tickerRequests: (since = 0) =>
      rest.requests.filter((r) => r.at >= since && IS_TICKER_REQUEST[id](r.path)).length,
    push(market, p) {
      const m = v.markets.get(market)
      if (m) m.price = p
      ws.pushTicker(market, p)
    },
    pump(market, intervalMs, priceOf) {
      let n = 0
      let last = Number.NaN
      const timer = setInterval(() => {
        last = priceOf(++n)
        h.push(market, last)
      }, intervalMs)
      pumps.push(timer)
      return { last: () => last, count: () => n, stop: () => clearInterval(timer) }
    },
    async metric(name, labels = {}) {
      const metric = metrics[name] as unknown as {
        get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }>
      }
      const { values } = await metric.get()
      return values
        .filter((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val))
        .reduce((sum, x) => sum + x.value, 0)
    },
    async close() {
      for (const t of pumps) clearInterval(t)
      await ingest.stop()
      unsubscribe()
      await Promise.all([rest.stop(), ws.stop()])
    },
  }
  return h
}
