import { afterEach, describe, expect, it } from 'vitest'
import { createBinanceSource } from '../../server/sources/binance.js'
import type { Source } from '../../server/sources/source.js'
import type { Tick } from '../../shared/quote.js'
import { type CcxtTicker, docFixture, expectClose } from '../helpers/ccxt.js'
import { ccxtCases, FakeExchange, type FakeRoute, hasCcxtFixtures } from '../helpers/fake-exchange.js'

const fixture = <T = unknown>(name: string): T => docFixture<T>('binance', name)

const REGISTRY_MARKETS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'POLUSDT']

let fake: FakeExchange | undefined
let source: Source | undefined

async function start(routes: Record<string, FakeRoute>): Promise<{ fake: FakeExchange; source: Source }> {
  fake = await new FakeExchange(routes).start()
  source = createBinanceSource({ baseUrl: fake.url, timeoutMs: 2000 })
  return { fake, source }
}

afterEach(async () => {
  await source?.close()
  await fake?.stop()
  source = undefined
  fake = undefined
})

function expectTickLikeCcxt(tick: Tick, parsed: CcxtTicker): void {
  expect(tick.source).toBe('binance')
  expect(tick.market).toBe(parsed.info.symbol)
  expect(tick.last).toBe(parsed.last)
  expectClose(tick.open24h, parsed.open)
  expectClose(tick.high24h, parsed.high)
  expectClose(tick.low24h, parsed.low)
  // ccxt's percentage is a percent, like Binance's priceChangePercent and our changePercent24h.
  expectClose(tick.changePercent24h, parsed.percentage)
  expectClose(tick.baseVolume, parsed.baseVolume)
  expectClose(tick.quoteVolume, parsed.quoteVolume)
  // ccxt's timestamp is Binance's closeTime, as is ours.
  expect(tick.ts).toBe(parsed.timestamp)
}

describe.runIf(hasCcxtFixtures)('binance adapter on recorded real responses (ccxt static data)', () => {
  const cases = hasCcxtFixtures ? ccxtCases('binance') : {}

  for (const c of cases.fetchTicker ?? []) {
    it(`fetchTicker: ${c.description}`, async () => {
      // Recorded with symbol=; the symbols= form we use returns the same object inside an array.
      const { fake, source } = await start({
        '/api/v3/ticker/24hr': { kind: 'json', body: [c.httpResponse] },
      })
      const parsed = c.parsedResponse as CcxtTicker
      const batch = await source.fetchTickers([parsed.info.symbol])
      expect(fake.requestsTo('/api/v3/ticker/24hr')).toHaveLength(1)
      expect(batch.dropped).toBe(0)
      expect(batch.ticks).toHaveLength(1)
      expectTickLikeCcxt(batch.ticks[0]!, parsed)
    })
  }

  for (const c of cases.fetchTickers ?? []) {
    it(`fetchTickers: ${c.description}`, async () => {
      const { fake, source } = await start({ '/api/v3/ticker/24hr': { kind: 'json', body: c.httpResponse } })
      const parsed = Object.values(c.parsedResponse as Record<string, CcxtTicker>)
      const batch = await source.fetchTickers(parsed.map((p) => p.info.symbol))
      expect(fake.requestsTo('/api/v3/ticker/24hr')).toHaveLength(1)
      expect(batch.dropped).toBe(0)
      expect(batch.ticks).toHaveLength(parsed.length)
      for (const p of parsed) expectTickLikeCcxt(batch.ticks.find((t) => t.market === p.info.symbol)!, p)
    })
  }

  for (const c of cases.fetchOHLCV ?? []) {
    // The "inverse index price" and "swap" cases come from Binance's futures klines; their row
    // layout is the spot one ([openTime, o, h, l, c, volume, closeTime, ...]), so they still test
    // the row parser. We always request '1h' (the fake ignores the query).
    it(`fetchOHLCV: ${c.description}`, async () => {
      const { fake, source } = await start({ '/api/v3/klines': { kind: 'json', body: c.httpResponse } })
      const limit = (c.input[3] as number | null) ?? 500
      const candles = await source.fetchCandles('BTCUSDT', '1h', limit)
      const req = fake.requestsTo('/api/v3/klines')[0]!
      expect(req.query.get('symbol')).toBe('BTCUSDT')
      expect(req.query.get('interval')).toBe('1h')
      expect(req.query.get('limit')).toBe(String(limit))
      expect(candles.map((k) => [k.ts, k.open, k.high, k.low, k.close, k.baseVolume])).toEqual(
        c.parsedResponse,
      )
    })
  }
})

describe('binance adapter on documented response shapes (tests/fixtures/binance)', () => {
  it('fetches the registry markets in one symbols= request and parses every field', async () => {
    const { fake, source } = await start({
      '/api/v3/ticker/24hr': { kind: 'json', body: fixture('tickers.json') },
    })
    const before = Date.now()
    const batch = await source.fetchTickers(REGISTRY_MARKETS)

    const reqs = fake.requestsTo('/api/v3/ticker/24hr')
    expect(reqs).toHaveLength(1)
    expect(reqs[0]!.method).toBe('GET')
    expect(JSON.parse(reqs[0]!.query.get('symbols')!)).toEqual(['BTCUSDT', 'ETHUSDT', 'POLUSDT', 'SOLUSDT'])
    expect([...reqs[0]!.query.keys()]).toEqual(['symbols'])

    expect(batch.dropped).toBe(0)
    expect(batch.ticks.map((t) => t.market).sort()).toEqual([...REGISTRY_MARKETS].sort())
    const pol = batch.ticks.find((t) => t.market === 'POLUSDT')!
    expect(pol).toEqual({
      source: 'binance',
      market: 'POLUSDT',
      last: 0.1834,
      open24h: 0.1791,
      high24h: 0.1862,
      low24h: 0.1779,
      changePercent24h: 2.401,
      baseVolume: 52314877.3,
      quoteVolume: 9521345.61,
      ts: 1764000000123,
      receivedAt: pol.receivedAt,
    })
    expect(pol.receivedAt).toBeGreaterThanOrEqual(before)
    expect(batch.ticks.find((t) => t.market === 'BNBUSDT')).toBeUndefined()
  })

  it('returns only requested markets, and nothing for a market the exchange did not send', async () => {
    const { source } = await start({ '/api/v3/ticker/24hr': { kind: 'json', body: fixture('tickers.json') } })
    const batch = await source.fetchTickers(['ETHUSDT', 'NOPEUSDT'])
    expect(batch.ticks.map((t) => t.market)).toEqual(['ETHUSDT'])
    expect(batch.dropped).toBe(0)
  })

  it('uses the all-tickers form (no symbols=) above 100 markets', async () => {
    const { fake, source } = await start({
      '/api/v3/ticker/24hr': { kind: 'json', body: fixture('tickers.json') },
    })
    const many = [...REGISTRY_MARKETS, ...Array.from({ length: 100 }, (_, i) => `X${i}USDT`)]
    const batch = await source.fetchTickers(many)
    const reqs = fake.requestsTo('/api/v3/ticker/24hr')
    expect(reqs).toHaveLength(1)
    expect(reqs[0]!.query.has('symbols')).toBe(false)
    expect(batch.ticks).toHaveLength(4)
  })

  it('falls back to all tickers when Binance rejects the symbols= list (unknown symbol, HTTP 400)', async () => {
    const { fake, source } = await start({
      '/api/v3/ticker/24hr': ({ query }) =>
        query.has('symbols')
          ? { kind: 'json', status: 400, body: { code: -1121, msg: 'Invalid symbol.' } }
          : { kind: 'json', body: fixture('tickers.json') },
    })
    const batch = await source.fetchTickers(['POLUSDT', 'DELISTEDUSDT'])
    expect(fake.requestsTo('/api/v3/ticker/24hr')).toHaveLength(2)
    expect(batch.ticks.map((t) => t.market)).toEqual(['POLUSDT'])
  })

  it('sends no request for an empty market list', async () => {
    const { fake, source } = await start({
      '/api/v3/ticker/24hr': { kind: 'json', body: fixture('tickers.json') },
    })
    expect(await source.fetchTickers([])).toEqual({ ticks: [], dropped: 0, dropReasons: [] })
    expect(fake.requests).toHaveLength(0)
  })

  it('lists trading spot symbols from the light exchangeInfo form', async () => {
    const { fake, source } = await start({
      '/api/v3/exchangeInfo': { kind: 'json', body: fixture('exchange-info.json') },
    })
    const markets = await source.listMarkets()
    expect([...markets].sort()).toEqual(['BTCUSDT', 'ETHUSDT', 'POLUSDT', 'SOLUSDT'])
    const q = fake.requestsTo('/api/v3/exchangeInfo')[0]!.query
    expect(q.get('symbolStatus')).toBe('TRADING')
    expect(q.get('showPermissionSets')).toBe('false')
  })

  it('fetches 5m klines oldest first with ms timestamps', async () => {
    const { fake, source } = await start({ '/api/v3/klines': { kind: 'json', body: fixture('klines.json') } })
    const candles = await source.fetchCandles('POLUSDT', '5m', 3)
    const q = fake.requestsTo('/api/v3/klines')[0]!.query
    expect(Object.fromEntries(q)).toEqual({ symbol: 'POLUSDT', interval: '5m', limit: '3' })
    expect(candles).toEqual([
      { ts: 1763999400000, open: 0.1831, high: 0.1836, low: 0.1829, close: 0.1833, baseVolume: 412345.2 },
      { ts: 1763999700000, open: 0.1833, high: 0.1838, low: 0.1832, close: 0.1837, baseVolume: 398765.1 },
      { ts: 1764000000000, open: 0.1837, high: 0.184, low: 0.1833, close: 0.1834, baseVolume: 287001 },
    ])
  })

  it('caps the kline limit at 1000 and keeps only the newest `limit` candles', async () => {
    const { fake, source } = await start({ '/api/v3/klines': { kind: 'json', body: fixture('klines.json') } })
    expect((await source.fetchCandles('POLUSDT', '1h', 2)).map((c) => c.ts)).toEqual([
      1763999700000, 1764000000000,
    ])
    await source.fetchCandles('POLUSDT', '1h', 5000)
    expect(fake.requestsTo('/api/v3/klines')[1]!.query.get('limit')).toBe('1000')
  })
})
