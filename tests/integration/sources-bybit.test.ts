import { afterEach, describe, expect, it } from 'vitest'
import { createMetrics } from '../../server/metrics.js'
import { createBybitSource } from '../../server/sources/bybit.js'
import type { Source } from '../../server/sources/source.js'
import type { Tick } from '../../shared/quote.js'
import { type CcxtTicker, docFixture, expectClose } from '../helpers/ccxt.js'
import { ccxtCases, FakeExchange, type FakeRoute, hasCcxtFixtures } from '../helpers/fake-exchange.js'

const fixture = <T = unknown>(name: string): T => docFixture<T>('bybit', name)

const REGISTRY_MARKETS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'POLUSDT', 'USUSDT']

let fake: FakeExchange | undefined
let source: Source | undefined

async function start(
  routes: Record<string, FakeRoute>,
  metrics?: ReturnType<typeof createMetrics>,
): Promise<{ fake: FakeExchange; source: Source }> {
  fake = await new FakeExchange(routes).start()
  source = createBybitSource({ baseUrl: fake.url, timeoutMs: 2000, metrics })
  return { fake, source }
}

afterEach(async () => {
  await source?.close()
  await fake?.stop()
  source = undefined
  fake = undefined
})

function expectTickLikeCcxt(tick: Tick, parsed: CcxtTicker, responseTime: unknown): void {
  expect(tick.market).toBe(parsed.info.symbol)
  expect(tick.last).toBe(parsed.last)
  expectClose(tick.open24h, parsed.open)
  expectClose(tick.high24h, parsed.high)
  expectClose(tick.low24h, parsed.low)
  // price24hPcnt is a fraction; ccxt's percentage and our changePercent24h are percents.
  expectClose(tick.changePercent24h, parsed.percentage)
  expectClose(tick.baseVolume, parsed.baseVolume)
  expectClose(tick.quoteVolume, parsed.quoteVolume)
  // Bybit ticker rows carry no timestamp: ccxt leaves it null, we use the response-level `time`.
  expect(parsed.timestamp).toBeNull()
  expect(tick.ts).toBe(Number(responseTime))
}

// The recording has no spot cases: fetchTicker and fetchOHLCV are linear swap, fetchTickers is an
// option. /v5/market/tickers and /v5/market/kline use the same envelope and the same row fields
// (lastPrice, prevPrice24h, price24hPcnt, highPrice24h, lowPrice24h, volume24h, turnover24h; kline
// rows [start, o, h, l, c, volume, turnover], newest first) for category=spot, so they still test
// our envelope and row parsing.
describe.runIf(hasCcxtFixtures)('bybit adapter on recorded real responses (ccxt static data)', () => {
  const cases = hasCcxtFixtures ? ccxtCases('bybit') : {}

  for (const c of cases.fetchTicker ?? []) {
    it(`fetchTicker: ${c.description} (retCode sent as the string "0")`, async () => {
      const { fake, source } = await start({ '/v5/market/tickers': { kind: 'json', body: c.httpResponse } })
      const parsed = c.parsedResponse as CcxtTicker
      const batch = await source.fetchTickers([parsed.info.symbol])
      expect(fake.requestsTo('/v5/market/tickers')).toHaveLength(1)
      expect(batch.dropped).toBe(0)
      expect(batch.ticks).toHaveLength(1)
      expectTickLikeCcxt(batch.ticks[0]!, parsed, (c.httpResponse as { time: unknown }).time)
    })
  }

  for (const c of cases.fetchTickers ?? []) {
    it(`fetchTickers: ${c.description} (rows without prevPrice24h / price24hPcnt)`, async () => {
      const { fake, source } = await start({ '/v5/market/tickers': { kind: 'json', body: c.httpResponse } })
      const parsed = Object.values(c.parsedResponse as Record<string, CcxtTicker>)
      const batch = await source.fetchTickers(parsed.map((p) => p.info.symbol))
      expect(fake.requestsTo('/v5/market/tickers')).toHaveLength(1)
      expect(batch.dropped).toBe(0)
      expect(batch.ticks).toHaveLength(parsed.length)
      for (const p of parsed) {
        const tick = batch.ticks.find((t) => t.market === p.info.symbol)!
        expectTickLikeCcxt(tick, p, (c.httpResponse as { time: unknown }).time)
      }
    })
  }

  for (const c of cases.fetchOHLCV ?? []) {
    it(`fetchOHLCV: ${c.description} (newest first → oldest first)`, async () => {
      const { fake, source } = await start({ '/v5/market/kline': { kind: 'json', body: c.httpResponse } })
      const limit = (c.input[3] as number | null) ?? 200
      const candles = await source.fetchCandles('BTCUSDT', '1h', limit)
      const q = fake.requestsTo('/v5/market/kline')[0]!.query
      expect(Object.fromEntries(q)).toEqual({
        category: 'spot',
        symbol: 'BTCUSDT',
        interval: '60',
        limit: String(limit),
      })
      expect(candles.map((k) => [k.ts, k.open, k.high, k.low, k.close, k.baseVolume])).toEqual(
        c.parsedResponse,
      )
    })
  }
})

describe('bybit adapter on documented response shapes (tests/fixtures/bybit)', () => {
  it('fetches all spot tickers in one request, including POL and Talus (USUSDT)', async () => {
    const { fake, source } = await start({
      '/v5/market/tickers': { kind: 'json', body: fixture('tickers.json') },
    })
    const batch = await source.fetchTickers(REGISTRY_MARKETS)

    const reqs = fake.requestsTo('/v5/market/tickers')
    expect(reqs).toHaveLength(1)
    expect(Object.fromEntries(reqs[0]!.query)).toEqual({ category: 'spot' })

    expect(batch.dropped).toBe(0)
    expect(batch.ticks.map((t) => t.market).sort()).toEqual([...REGISTRY_MARKETS].sort())
    expect(batch.ticks.find((t) => t.market === 'MNTUSDT')).toBeUndefined()

    const us = batch.ticks.find((t) => t.market === 'USUSDT')!
    expect(us).toMatchObject({
      source: 'bybit',
      last: 0.0523,
      open24h: 0.0561,
      high24h: 0.0575,
      low24h: 0.0502,
      baseVolume: 48123456.7,
      quoteVolume: 2574321.98,
      ts: 1764000000123,
    })
    // price24hPcnt "-0.0677" is a fraction: -6.77 %.
    expect(us.changePercent24h).toBeCloseTo(-6.77, 10)
    const pol = batch.ticks.find((t) => t.market === 'POLUSDT')!
    expect(pol.changePercent24h).toBeCloseTo(2.4, 10)
    expect(pol.last).toBe(0.1832)
  })

  it('a non-zero retCode is an error even with HTTP 200; 10006 is a rate limit', async () => {
    const metrics = createMetrics()
    const { source } = await start(
      {
        '/v5/market/tickers': {
          kind: 'json',
          body: { retCode: 10006, retMsg: 'Too many visits!', result: {}, time: 1 },
        },
        '/v5/market/kline': {
          kind: 'json',
          body: { retCode: 10001, retMsg: 'params error: symbol invalid', result: {}, time: 1 },
        },
      },
      metrics,
    )
    await expect(source.fetchTickers(['USUSDT'])).rejects.toMatchObject({ kind: 'rate_limited' })
    await expect(source.fetchCandles('NOPE', '5m', 10)).rejects.toMatchObject({ kind: 'schema' })
    const errors = (await metrics.sourceErrors.get()).values
    expect(errors.find((v) => v.labels.kind === 'rate_limited')?.value).toBe(1)
    expect(errors.find((v) => v.labels.kind === 'schema')?.value).toBe(1)
  })

  it('lists trading spot symbols', async () => {
    const { fake, source } = await start({
      '/v5/market/instruments-info': { kind: 'json', body: fixture('instruments.json') },
    })
    expect([...(await source.listMarkets())].sort()).toEqual([
      'BTCUSDT',
      'ETHUSDT',
      'POLUSDT',
      'SOLUSDT',
      'USUSDT',
    ])
    expect(Object.fromEntries(fake.requestsTo('/v5/market/instruments-info')[0]!.query)).toEqual({
      category: 'spot',
    })
  })

  it('fetches 5m klines and returns them oldest first', async () => {
    const { fake, source } = await start({
      '/v5/market/kline': { kind: 'json', body: fixture('kline.json') },
    })
    const candles = await source.fetchCandles('USUSDT', '5m', 3)
    expect(Object.fromEntries(fake.requestsTo('/v5/market/kline')[0]!.query)).toEqual({
      category: 'spot',
      symbol: 'USUSDT',
      interval: '5',
      limit: '3',
    })
    expect(candles).toEqual([
      { ts: 1763999400000, open: 0.0519, high: 0.0522, low: 0.0518, close: 0.0521, baseVolume: 143210.9 },
      { ts: 1763999700000, open: 0.0521, high: 0.0525, low: 0.052, close: 0.0524, baseVolume: 98765.4 },
      { ts: 1764000000000, open: 0.0524, high: 0.0526, low: 0.0522, close: 0.0523, baseVolume: 120345.6 },
    ])
  })
})
