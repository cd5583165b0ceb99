import { afterEach, describe, expect, it } from 'vitest'
import { createMetrics } from '../../server/metrics.js'
import { createOkxSource } from '../../server/sources/okx.js'
import { type Source, SourceError } from '../../server/sources/source.js'
import { type CcxtTicker, docFixture, expectClose } from '../helpers/ccxt.js'
import { ccxtCases, FakeExchange, type FakeRoute, hasCcxtFixtures } from '../helpers/fake-exchange.js'

const fixture = <T = unknown>(name: string): T => docFixture<T>('okx', name)

const REGISTRY_MARKETS = ['BTC-USDT', 'ETH-USDT', 'SOL-USDT', 'POL-USDT']

let fake: FakeExchange | undefined
let source: Source | undefined

async function start(
  routes: Record<string, FakeRoute>,
  metrics?: ReturnType<typeof createMetrics>,
): Promise<{ fake: FakeExchange; source: Source }> {
  fake = await new FakeExchange(routes).start()
  source = createOkxSource({ baseUrl: fake.url, timeoutMs: 2000, metrics })
  return { fake, source }
}

afterEach(async () => {
  await source?.close()
  await fake?.stop()
  source = undefined
  fake = undefined
})

describe.runIf(hasCcxtFixtures)('okx adapter on recorded real responses (ccxt static data)', () => {
  const cases = hasCcxtFixtures ? ccxtCases('okx') : {}

  // The recording has no fetchTickers case; fetchTicker (/api/v5/market/ticker?instId=) answers
  // with the same { code, msg, data: [row] } envelope and row as /api/v5/market/tickers.
  for (const c of cases.fetchTicker ?? []) {
    it(`fetchTicker: ${c.description}`, async () => {
      const { fake, source } = await start({
        '/api/v5/market/tickers': { kind: 'json', body: c.httpResponse },
      })
      const parsed = c.parsedResponse as CcxtTicker<'instId'>
      const batch = await source.fetchTickers([parsed.info.instId])
      expect(fake.requestsTo('/api/v5/market/tickers')).toHaveLength(1)
      expect(batch.dropped).toBe(0)
      const tick = batch.ticks[0]!
      expect(tick.market).toBe('BTC-USDT')
      expect(tick.last).toBe(parsed.last)
      expectClose(tick.open24h, parsed.open)
      expectClose(tick.high24h, parsed.high)
      expectClose(tick.low24h, parsed.low)
      // OKX sends no change; both ccxt and we derive the percent from last vs open24h.
      expectClose(tick.changePercent24h, parsed.percentage)
      expectClose(tick.baseVolume, parsed.baseVolume)
      expectClose(tick.quoteVolume, parsed.quoteVolume)
      expect(tick.ts).toBe(parsed.timestamp)
    })
  }

  for (const c of cases.fetchOHLCV ?? []) {
    it(`fetchOHLCV: ${c.description} (newest first → oldest first)`, async () => {
      const { fake, source } = await start({
        '/api/v5/market/candles': { kind: 'json', body: c.httpResponse },
      })
      const limit = (c.input[3] as number | null) ?? 100
      const candles = await source.fetchCandles('BTC-USDT', '1h', limit)
      const q = fake.requestsTo('/api/v5/market/candles')[0]!.query
      expect(Object.fromEntries(q)).toEqual({ instId: 'BTC-USDT', bar: '1H', limit: String(limit) })
      expect(candles.map((k) => [k.ts, k.open, k.high, k.low, k.close, k.baseVolume])).toEqual(
        c.parsedResponse,
      )
    })
  }
})

describe('okx adapter on documented response shapes (tests/fixtures/okx)', () => {
  it('fetches all spot tickers in one request and parses the registry markets', async () => {
    const { fake, source } = await start({
      '/api/v5/market/tickers': { kind: 'json', body: fixture('tickers.json') },
    })
    const batch = await source.fetchTickers(REGISTRY_MARKETS)

    const reqs = fake.requestsTo('/api/v5/market/tickers')
    expect(reqs).toHaveLength(1)
    expect(Object.fromEntries(reqs[0]!.query)).toEqual({ instType: 'SPOT' })

    expect(batch.dropped).toBe(0)
    expect(batch.ticks.map((t) => t.market).sort()).toEqual([...REGISTRY_MARKETS].sort())
    const pol = batch.ticks.find((t) => t.market === 'POL-USDT')!
    expect(pol).toMatchObject({
      source: 'okx',
      last: 0.1833,
      open24h: 0.179,
      high24h: 0.1861,
      low24h: 0.178,
      baseVolume: 31234567.891,
      quoteVolume: 5678901.234,
      ts: 1764000000123,
    })
    // (0.1833 - 0.179) / 0.179 * 100, never the since-midnight sodUtc0/sodUtc8.
    expect(pol.changePercent24h).toBeCloseTo(2.4022346, 6)
    expect(batch.ticks.find((t) => t.market === 'OKB-USDT')).toBeUndefined()
  })

  it('a non-zero code is an error even with HTTP 200; 50011 is a rate limit', async () => {
    const metrics = createMetrics()
    const { source } = await start(
      {
        '/api/v5/market/tickers': {
          kind: 'json',
          body: { code: '50011', msg: 'Too Many Requests', data: [] },
        },
        '/api/v5/public/instruments': {
          kind: 'json',
          body: { code: '51001', msg: 'Instrument ID does not exist', data: [] },
        },
      },
      metrics,
    )
    await expect(source.fetchTickers(['POL-USDT'])).rejects.toMatchObject({ kind: 'rate_limited' })
    const err = await source.listMarkets().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SourceError)
    expect(err).toMatchObject({ kind: 'schema' })
    expect((err as Error).message).toContain('51001')
    const errors = (await metrics.sourceErrors.get()).values
    expect(errors.find((v) => v.labels.kind === 'rate_limited')?.value).toBe(1)
    expect(errors.find((v) => v.labels.kind === 'schema')?.value).toBe(1)
  })

  it('lists live spot instruments only', async () => {
    const { fake, source } = await start({
      '/api/v5/public/instruments': { kind: 'json', body: fixture('instruments.json') },
    })
    expect([...(await source.listMarkets())].sort()).toEqual(['BTC-USDT', 'ETH-USDT', 'POL-USDT', 'SOL-USDT'])
    expect(Object.fromEntries(fake.requestsTo('/api/v5/public/instruments')[0]!.query)).toEqual({
      instType: 'SPOT',
    })
  })

  it('fetches 5m candles and returns them oldest first', async () => {
    const { fake, source } = await start({
      '/api/v5/market/candles': { kind: 'json', body: fixture('candles.json') },
    })
    const candles = await source.fetchCandles('POL-USDT', '5m', 3)
    expect(Object.fromEntries(fake.requestsTo('/api/v5/market/candles')[0]!.query)).toEqual({
      instId: 'POL-USDT',
      bar: '5m',
      limit: '3',
    })
    expect(candles).toEqual([
      { ts: 1763999400000, open: 0.1831, high: 0.1836, low: 0.1829, close: 0.1833, baseVolume: 312345.2 },
      { ts: 1763999700000, open: 0.1833, high: 0.1838, low: 0.1832, close: 0.1837, baseVolume: 298765.1 },
      { ts: 1764000000000, open: 0.1837, high: 0.184, low: 0.1833, close: 0.1834, baseVolume: 187001.2 },
    ])
  })

  it('caps the candle limit at 300 (the endpoint maximum)', async () => {
    const { fake, source } = await start({
      '/api/v5/market/candles': { kind: 'json', body: fixture('candles.json') },
    })
    await source.fetchCandles('POL-USDT', '5m', 288 * 2)
    expect(fake.requestsTo('/api/v5/market/candles')[0]!.query.get('limit')).toBe('300')
  })
})
