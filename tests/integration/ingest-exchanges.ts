import pino, { type Logger } from 'pino'
import { parseRegistry } from '../../server/assets.js'
import { configFrom } from '../../server/config.js'
import type { AppContext } from '../../server/context.js'
import type { Engine, QuoteBatch } from '../../server/engine/engine.js'
import { MemoryEngine } from '../../server/engine/memory.js'
import { createIngest, type Ingest, type IngestOptions } from '../../server/ingest/ingest.js'
import { createMetrics, type Metrics } from '../../server/metrics.js'
import type { AssetRegistryFile } from '../../shared/asset.js'
import { type ExchangeId, Quote, RESOLUTION_MS, type Resolution } from '../../shared/quote.js'
import { FakeExchange, type FakeReply } from '../helpers/fake-exchange.js'

/**
 * Fake exchanges for the ingest tests: real local HTTP servers speaking Binance, Bybit, Kraken, MEXC
 * and Gate REST formats, driven by a small mutable state per venue (prices, listed markets, a fault
 * on the tickers endpoint, candle closes).
 */

export interface MarketState {
  price: number
  /** 24 h base volume. */
  baseVolume: number
}

export interface Venue {
  markets: Map<string, MarketState>
  /** Markets the exchange lists; default: every key of `markets`. */
  listed?: Set<string>
  /** Close of the candle that opens at `ts`. */
  candle: (market: string, ts: number, resolution: Resolution) => number
  /** When it returns a reply, the tickers endpoint answers that instead (fault injection). */
  tickerFault?: () => FakeReply | undefined
}

export function venue(
  markets: Record<string, MarketState>,
  candle: Venue['candle'] = (m) => markets[m]?.price ?? 1,
): Venue {
  return { markets: new Map(Object.entries(markets)), candle }
}

const listed = (v: Venue) => v.listed ?? new Set(v.markets.keys())
const s = (n: number) => String(n)

function candles(v: Venue, market: string, resolution: Resolution, limit: number) {
  const step = RESOLUTION_MS[resolution]
  const current = Math.floor(Date.now() / step) * step
  const n = Math.min(Math.max(1, limit), 1000)
  return Array.from({ length: n }, (_, i) => {
    const ts = current - (n - 1 - i) * step
    const close = v.candle(market, ts, resolution)
    return { ts, open: close, high: close * 1.001, low: close * 0.999, close, volume: 1000 }
  })
}

/** The paths of each fake's tickers endpoint (for request-log assertions). */
export const TICKER_PATH: Partial<Record<ExchangeId, string>> = {
  binance: '/api/v3/ticker/24hr',
  bybit: '/v5/market/tickers',
  kraken: '/0/public/Ticker',
  mexc: '/api/v3/ticker/24hr',
  gate: '/api/v4/spot/tickers',
}

const faultOr = (v: Venue, reply: () => FakeReply) => () => v.tickerFault?.() ?? reply()

function binanceLike(v: Venue, hourInterval: string): Record<string, Parameters<FakeExchange['route']>[1]> {
  const row = (symbol: string, m: MarketState) => ({
    symbol,
    lastPrice: s(m.price),
    openPrice: s(m.price),
    highPrice: s(m.price * 1.02),
    lowPrice: s(m.price * 0.98),
    priceChangePercent: '0',
    volume: s(m.baseVolume),
    quoteVolume: s(m.baseVolume * m.price),
    closeTime: Date.now(),
  })
  return {
    '/api/v3/ticker/24hr': faultOr(v, () => ({
      kind: 'json',
      body: [...v.markets].filter(([k]) => listed(v).has(k)).map(([k, m]) => row(k, m)),
    })),
    '/api/v3/klines': ({ query }) => {
      const res: Resolution = query.get('interval') === hourInterval ? '1h' : '5m'
      const rows = candles(v, query.get('symbol') ?? '', res, Number(query.get('limit')))
      return {
        kind: 'json',
        body: rows.map((c) => [c.ts, s(c.open), s(c.high), s(c.low), s(c.close), s(c.volume), c.ts + 1]),
      }
    },
  }
}

export function binanceFake(v: Venue): FakeExchange {
  return new FakeExchange({
    ...binanceLike(v, '1h'),
    '/api/v3/exchangeInfo': () => ({
      kind: 'json',
      body: {
        symbols: [...listed(v)].map((symbol) => ({ symbol, status: 'TRADING', isSpotTradingAllowed: true })),
      },
    }),
  })
}

export function mexcFake(v: Venue): FakeExchange {
  return new FakeExchange({
    ...binanceLike(v, '60m'),
    '/api/v3/exchangeInfo': () => ({
      kind: 'json',
      body: { symbols: [...listed(v)].map((symbol) => ({ symbol, status: '1' })) },
    }),
  })
}

export function bybitFake(v: Venue): FakeExchange {
  const env = (result: unknown) => ({
    kind: 'json' as const,
    body: { retCode: 0, retMsg: 'OK', result, time: Date.now() },
  })
  return new FakeExchange({
    '/v5/market/instruments-info': () =>
      env({ list: [...listed(v)].map((symbol) => ({ symbol, status: 'Trading' })) }),
    '/v5/market/tickers': faultOr(v, () =>
      env({
        category: 'spot',
        list: [...v.markets]
          .filter(([k]) => listed(v).has(k))
          .map(([symbol, m]) => ({
            symbol,
            lastPrice: s(m.price),
            prevPrice24h: s(m.price),
            highPrice24h: s(m.price * 1.02),
            lowPrice24h: s(m.price * 0.98),
            price24hPcnt: '0',
            volume24h: s(m.baseVolume),
            turnover24h: s(m.baseVolume * m.price),
          })),
      }),
    ),
    '/v5/market/kline': ({ query }) => {
      const res: Resolution = query.get('interval') === '60' ? '1h' : '5m'
      const rows = candles(v, query.get('symbol') ?? '', res, Number(query.get('limit')))
      return env({
        list: rows
          .reverse()
          .map((c) => [s(c.ts), s(c.open), s(c.high), s(c.low), s(c.close), s(c.volume), '0']),
      })
    },
  })
}

/** Kraken answers with canonical pair keys ("K" + altname here); markets are named by altname. */
export function krakenFake(v: Venue): FakeExchange {
  const ok = (result: unknown) => ({ kind: 'json' as const, body: { error: [], result } })
  return new FakeExchange({
    '/0/public/AssetPairs': () =>
      ok(Object.fromEntries([...listed(v)].map((alt) => [`K${alt}`, { altname: alt, status: 'online' }]))),
    '/0/public/Ticker': faultOr(v, () => {
      return { kind: 'json', body: { error: [], result: krakenTickers(v) } }
    }),
    '/0/public/OHLC': ({ query }) => {
      const pair = query.get('pair') ?? ''
      const res: Resolution = query.get('interval') === '60' ? '1h' : '5m'
      const rows = candles(v, pair, res, 720)
      return ok({
        [`K${pair}`]: rows.map((c) => [
          c.ts / 1000,
          s(c.open),
          s(c.high),
          s(c.low),
          s(c.close),
          s(c.close),
          s(c.volume),
          5,
        ]),
        last: 1,
      })
    },
  })
  function krakenTickers(venueState: Venue) {
    const out: Record<string, unknown> = {}
    for (const [alt, m] of venueState.markets) {
      if (!listed(venueState).has(alt)) continue
      out[`K${alt}`] = {
        c: [s(m.price), '1.0'],
        h: [s(m.price * 1.01), s(m.price * 1.02)],
        l: [s(m.price * 0.99), s(m.price * 0.98)],
        v: [s(m.baseVolume / 2), s(m.baseVolume)],
        p: [s(m.price), s(m.price)],
        o: s(m.price * 0.5), // since-midnight open: must never be used
      }
    }
    return out
  }
}

export function gateFake(v: Venue): FakeExchange {
  return new FakeExchange({
    '/api/v4/spot/currency_pairs': () => ({
      kind: 'json',
      body: [...listed(v)].map((id) => ({ id, trade_status: 'tradable' })),
    }),
    '/api/v4/spot/tickers': faultOr(v, () => ({
      kind: 'json',
      body: [...v.markets]
        .filter(([k]) => listed(v).has(k))
        .map(([currency_pair, m]) => ({
          currency_pair,
          last: s(m.price),
          high_24h: s(m.price * 1.02),
          low_24h: s(m.price * 0.98),
          change_percentage: '0',
          base_volume: s(m.baseVolume),
          quote_volume: s(m.baseVolume * m.price),
        })),
    })),
    '/api/v4/spot/candlesticks': ({ query }) => {
      const res: Resolution = query.get('interval') === '1h' ? '1h' : '5m'
      const rows = candles(v, query.get('currency_pair') ?? '', res, Number(query.get('limit')))
      return {
        kind: 'json',
        body: rows.map((c) => [
          s(c.ts / 1000),
          '0',
          s(c.close),
          s(c.high),
          s(c.low),
          s(c.open),
          s(c.volume),
          'true',
        ]),
      }
    },
  })
}

const FAKES: Partial<Record<ExchangeId, (v: Venue) => FakeExchange>> = {
  binance: binanceFake,
  bybit: bybitFake,
  kraken: krakenFake,
  mexc: mexcFake,
  gate: gateFake,
}

/** A log sink that keeps every line (as parsed JSON) for assertions. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) })
  return { logger, lines }
}

export interface Harness {
  ingest: Ingest
  ctx: AppContext
  engine: Engine
  metrics: Metrics
  fakes: Partial<Record<ExchangeId, FakeExchange>>
  venues: Partial<Record<ExchangeId, Venue>>
  lines: Record<string, unknown>[]
  /** Every batch received on the engine bus since start. */
  batches: QuoteBatch[]
  /** Every published quote of an asset, in order. */
  quotesOf(asset: string): Quote[]
  close(): Promise<void>
}

export const TEST_ENV = {
  PRICEWIRE_POLL_MS: '100',
  PRICEWIRE_STALE_MS: '1000',
  PRICEWIRE_LEADER_TTL_MS: '1000',
  PRICEWIRE_REQUEST_TIMEOUT_MS: '300',
  PRICEWIRE_OUTLIER_PCT: '5',
}

/** Starts fakes for the venues, then an ingest on them (started unless `start: false`). */
export async function startHarness(opts: {
  venues: Partial<Record<ExchangeId, Venue>>
  registry: AssetRegistryFile
  engine?: Engine
  nodeId?: string
  env?: Record<string, string>
  options?: IngestOptions
  start?: boolean
}): Promise<Harness> {
  const fakes: Partial<Record<ExchangeId, FakeExchange>> = {}
  const urls: Record<string, string> = {}
  for (const [id, v] of Object.entries(opts.venues) as [ExchangeId, Venue][]) {
    const fake = await FAKES[id]!(v).start()
    fakes[id] = fake
    urls[`PRICEWIRE_SOURCE_URL_${id.toUpperCase()}`] = fake.url
  }
  const config = configFrom({
    ...TEST_ENV,
    PRICEWIRE_SOURCES: Object.keys(opts.venues).join(','),
    PRICEWIRE_NODE_ID: opts.nodeId ?? 'node-a',
    ...urls,
    ...opts.env,
  })
  const { logger, lines } = captureLogger()
  const engine = opts.engine ?? new MemoryEngine()
  await engine.start()
  const metrics = createMetrics()
  const ctx: AppContext = { config, logger, engine, registry: parseRegistry(opts.registry, 'test'), metrics }
  const batches: QuoteBatch[] = []
  const unsubscribe = engine.subscribe((b) => batches.push(b))
  const ingest = createIngest(ctx, { breaker: { threshold: 3, coolDownMs: 400 }, ...opts.options })
  if (opts.start !== false) await ingest.start()
  return {
    ingest,
    ctx,
    engine,
    metrics,
    fakes,
    venues: opts.venues,
    lines,
    batches,
    quotesOf: (asset) => batches.flatMap((b) => b.quotes.filter((q) => q.asset === asset)),
    async close() {
      await ingest.stop()
      unsubscribe()
      await Promise.all(Object.values(fakes).map((f) => f.stop()))
    },
  }
}

/** Value of a labelled Prometheus counter/gauge (0 when never set). */
export async function metricValue(
  metrics: Metrics,
  name: keyof Metrics,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = metrics[name] as unknown as {
    get(): Promise<{ values: { value: number; labels: object }[] }>
  }
  const { values } = await metric.get()
  const match = values.find((v) =>
    Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val),
  )
  return match?.value ?? 0
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The test registry: pol on Binance, Bybit (USDT) and Kraken (USD); Talus on Bybit, MEXC, Gate and an unlisted Binance market. */
export const TEST_REGISTRY: AssetRegistryFile = {
  assets: [
    {
      id: 'pol',
      symbol: 'POL',
      name: 'Polygon',
      circulatingSupply: 10_000_000_000,
      markets: [
        { source: 'binance', symbol: 'POLUSDT', quote: 'USDT' },
        { source: 'bybit', symbol: 'POLUSDT', quote: 'USDT' },
        { source: 'kraken', symbol: 'POLUSD', quote: 'USD' },
      ],
    },
    {
      id: 'talus',
      symbol: 'US',
      name: 'Talus',
      markets: [
        { source: 'binance', symbol: 'USUSDT', quote: 'USDT' },
        { source: 'bybit', symbol: 'USUSDT', quote: 'USDT' },
        { source: 'mexc', symbol: 'USUSDT', quote: 'USDT' },
        { source: 'gate', symbol: 'US_USDT', quote: 'USDT' },
      ],
    },
  ],
}

export const USDT_USD = 0.999
const H12 = 12 * 3_600_000

/**
 * The standard world: USDT at 0.999 USD (Kraken USDTUSD); pol ≈ 0.25 with Binance holding most of
 * the volume, its candles at 0.20 more than 12 h ago and 0.24 since; Talus ≈ 0.0101 with Bybit
 * holding most of the volume, its candles at 0.008 then 0.0095. Binance does not list USUSDT.
 */
export function standardVenues(): Record<'binance' | 'bybit' | 'kraken' | 'mexc' | 'gate', Venue> {
  const polCandle = (ts: number) =>
    (ts < Date.now() - H12 ? 0.2 : 0.24) * (1 + 0.001 * Math.sin(ts / 300_000))
  const talusCandle = (ts: number) => (ts < Date.now() - H12 ? 0.008 : 0.0095)
  const binance = venue({ POLUSDT: { price: 0.25, baseVolume: 10_000_000 } }, (_m, ts) => polCandle(ts))
  binance.listed = new Set(['POLUSDT', 'BTCUSDT'])
  return {
    binance,
    bybit: venue(
      {
        POLUSDT: { price: 0.2504, baseVolume: 1_000_000 },
        USUSDT: { price: 0.0101, baseVolume: 50_000_000 },
      },
      (m, ts) => (m === 'USUSDT' ? talusCandle(ts) : polCandle(ts)),
    ),
    kraken: venue(
      { POLUSD: { price: 0.2497, baseVolume: 1_000_000 }, USDTUSD: { price: USDT_USD, baseVolume: 5e8 } },
      (_m, ts) => polCandle(ts),
    ),
    mexc: venue({ USUSDT: { price: 0.01, baseVolume: 10_000_000 } }, (_m, ts) => talusCandle(ts)),
    gate: venue({ US_USDT: { price: 0.0102, baseVolume: 10_000_000 } }, (_m, ts) => talusCandle(ts)),
  }
}

/** Every published quote validates against the Quote schema and has a finite positive price. */
export function assertValidQuotes(quotes: readonly Quote[]): void {
  for (const q of quotes) {
    const parsed = Quote.safeParse(q)
    if (!parsed.success) throw new Error(`invalid quote published: ${JSON.stringify(q)}`)
    if (!(Number.isFinite(q.price) && q.price > 0)) throw new Error(`bad price published: ${q.price}`)
  }
}
