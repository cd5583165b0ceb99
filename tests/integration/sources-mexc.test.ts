import { afterEach, describe, expect, it } from 'vitest'
import { createMexcSource } from '../../server/sources/mexc.js'
import type { Source } from '../../server/sources/source.js'
import { type CcxtTicker, docFixture, expectClose } from '../helpers/ccxt.js'
import { ccxtCases, FakeExchange, type FakeRoute, hasCcxtFixtures } from '../helpers/fake-exchange.js'

const fixture = <T = unknown>(name: string): T => docFixture<T>('mexc', name)

const REGISTRY_MARKETS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'POLUSDT', 'USUSDT']

let fake: FakeExchange | undefined
let source: Source | undefined

async function start(routes: Record<string, FakeRoute>): Promise<{ fake: FakeExchange; source: Source }> {
  fake = await new FakeExchange(routes).start()
  source = createMexcSource({ baseUrl: fake.url, timeoutMs: 2000 })
  return { fake, source }
}

afterEach(async () => {
  await source?.close()
  await fake?.stop()
  source = undefined
  fake = undefined
})

describe.runIf(hasCcxtFixtures)('mexc adapter on recorded real responses (ccxt static data)', () => {
  const cases = hasCcxtFixtures ? ccxtCases('mexc') : {}

  for (const c of cases.fetchTicker ?? []) {
    it(`fetchTicker: ${c.description}`, async () => {
      // Recorded with symbol=; the all-tickers form we use returns the same objects in an array.
      const { fake, source } = await start({
        '/api/v3/ticker/24hr': { kind: 'json', body: [c.httpResponse] },
      })
      const parsed = c.parsedResponse as CcxtTicker
      const batch = await source.fetchTickers([parsed.info.symbol])
      expect(fake.requestsTo('/api/v3/ticker/24hr')).toHaveLength(1)
      expect(batch.dropped).toBe(0)
      const tick = batch.ticks[0]!
      expect(tick.market).toBe('BTCUSDT')
      expect(tick.last).toBe(parsed.last)
      expectClose(tick.open24h, parsed.open)
      expectClose(tick.high24h, parsed.high)
      expectClose(tick.low24h, parsed.low)
      // priceChangePercent "0.0173" is a fraction; ccxt's percentage (1.73) and ours are percents.
      expectClose(tick.changePercent24h, parsed.percentage)
      expectClose(tick.baseVolume, parsed.baseVolume)
      expectClose(tick.quoteVolume, parsed.quoteVolume)
      // ccxt's timestamp is closeTime, as is ours.
      expect(tick.ts).toBe(parsed.timestamp)
    })
  }

  for (const c of cases.fetchOHLCV ?? []) {
    it(`fetchOHLCV: ${c.description}`, async () => {
      const { fake, source } = await start({ '/api/v3/klines': { kind: 'json', body: c.httpResponse } })
      const limit = (c.input[3] as number | null) ?? 500
      const candles = await source.fetchCandles('BTCUSDT', '1h', limit)
      const q = fake.requestsTo('/api/v3/klines')[0]!.query
      // MEXC spells one hour "60m".
      expect(Object.fromEntries(q)).toEqual({ symbol: 'BTCUSDT', interval: '60m', limit: String(limit) })
      expect(candles.map((k) => [k.ts, k.open, k.high, k.low, k.close, k.baseVolume])).toEqual(
        c.parsedResponse,
      )
    })
  }
})

describe('mexc adapter on documented response shapes (tests/fixtures/mexc)', () => {
  it('fetches all tickers in one request, including POL and Talus (USUSDT)', async () => {
    const { fake, source } = await start({
      '/api/v3/ticker/24hr': { kind: 'json', body: fixture('tickers.json') },
    })
    const batch = await source.fetchTickers(REGISTRY_MARKETS)

    const reqs = fake.requestsTo('/api/v3/ticker/24hr')
    expect(reqs).toHaveLength(1)
    expect([...reqs[0]!.query.keys()]).toEqual([])

    expect(batch.dropped).toBe(0)
    expect(batch.ticks.map((t) => t.market).sort()).toEqual([...REGISTRY_MARKETS].sort())
    expect(batch.ticks.find((t) => t.market === 'MXUSDT')).toBeUndefined()

    const us = batch.ticks.find((t) => t.market === 'USUSDT')!
    expect(us).toMatchObject({
      source: 'mexc',
      last: 0.05228,
      open24h: 0.05607,
      high24h: 0.05749,
      low24h: 0.05019,
      baseVolume: 61234567.89,
      quoteVolume: 3276543.21,
      ts: 1764000000123,
    })
    // priceChangePercent "-0.06759408" is a fraction: -6.759408 %.
    expect(us.changePercent24h).toBeCloseTo(-6.759408, 9)

    // The docs show quoteVolume may be null: the tick keeps its price and has no quote volume.
    const pol = batch.ticks.find((t) => t.market === 'POLUSDT')!
    expect(pol.last).toBe(0.1835)
    expect(pol.quoteVolume).toBeNull()
    expect(pol.baseVolume).toBe(15234567.8)
  })

  it('lists online symbols only (status "1")', async () => {
    const { source } = await start({
      '/api/v3/exchangeInfo': { kind: 'json', body: fixture('exchange-info.json') },
    })
    expect([...(await source.listMarkets())].sort()).toEqual([
      'BTCUSDT',
      'ETHUSDT',
      'POLUSDT',
      'SOLUSDT',
      'USUSDT',
    ])
  })

  it('fetches 5m klines oldest first', async () => {
    const { fake, source } = await start({ '/api/v3/klines': { kind: 'json', body: fixture('klines.json') } })
    const candles = await source.fetchCandles('USUSDT', '5m', 3)
    expect(Object.fromEntries(fake.requestsTo('/api/v3/klines')[0]!.query)).toEqual({
      symbol: 'USUSDT',
      interval: '5m',
      limit: '3',
    })
    expect(candles).toEqual([
      {
        ts: 1763999400000,
        open: 0.05191,
        high: 0.05222,
        low: 0.05183,
        close: 0.05212,
        baseVolume: 143210.91,
      },
      { ts: 1763999700000, open: 0.05212, high: 0.05251, low: 0.05201, close: 0.05238, baseVolume: 98765.43 },
      {
        ts: 1764000000000,
        open: 0.05238,
        high: 0.05262,
        low: 0.05221,
        close: 0.05228,
        baseVolume: 120345.67,
      },
    ])
  })
})
