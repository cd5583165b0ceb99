import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMetrics } from '../../server/metrics.js'
import { createGateSource } from '../../server/sources/gate.js'
import type { Source } from '../../server/sources/source.js'
import { asCcxtRow, type CcxtTicker, docFixture } from '../helpers/ccxt.js'
import { ccxtCases, FakeExchange, hasCcxtFixtures } from '../helpers/fake-exchange.js'

const fixture = <T = unknown>(name: string): T => docFixture<T>('gate', name)

describe('gate source', () => {
  let fake: FakeExchange
  let source: Source

  beforeEach(async () => {
    fake = await new FakeExchange().start()
    source = createGateSource({ baseUrl: fake.url, timeoutMs: 2000 })
  })
  afterEach(async () => {
    await source.close()
    await fake.stop()
  })

  describe.runIf(hasCcxtFixtures)('recorded real responses (ccxt gate.json)', () => {
    const cases = hasCcxtFixtures ? ccxtCases('gate') : {}

    for (const c of cases.fetchTicker ?? []) {
      it(`fetchTicker: ${c.description}`, async () => {
        const rows = c.httpResponse as Array<{ currency_pair: string }>
        const market = rows[0]!.currency_pair
        fake.route('/api/v4/spot/tickers', { kind: 'json', body: c.httpResponse })
        const batch = await source.fetchTickers([market])
        const want = c.parsedResponse as CcxtTicker
        expect(batch.dropped).toBe(0)
        expect(batch.ticks).toHaveLength(1)
        const tick = batch.ticks[0]!
        expect(tick.market).toBe(market)
        expect(tick.last).toBe(want.last)
        expect(tick.high24h).toBe(want.high)
        expect(tick.low24h).toBe(want.low)
        expect(tick.changePercent24h).toBe(want.percentage)
        expect(tick.baseVolume).toBe(want.baseVolume)
        expect(tick.quoteVolume).toBe(want.quoteVolume)
        expect(tick.ts).toBe(want.timestamp)
        // ccxt derives an open from last and the 2-decimal change_percentage; Gate sends no open,
        // and we publish open24h only as the exchange reports it, so ours is null.
        expect(want.open).not.toBeNull()
        expect(tick.open24h).toBeNull()
      })
    }

    for (const c of cases.fetchOHLCV ?? []) {
      it(`fetchOHLCV: ${c.description}`, async () => {
        const [, timeframe, , limit] = c.input as [string, '5m' | '1h', number | null, number]
        const market = (c.input[0] as string).replace('/', '_')
        fake.route('/api/v4/spot/candlesticks', { kind: 'json', body: c.httpResponse })
        const candles = await source.fetchCandles(market, timeframe, limit)
        expect(candles.map(asCcxtRow)).toEqual(c.parsedResponse)
        const q = fake.requestsTo('/api/v4/spot/candlesticks')[0]!.query
        expect(q.get('currency_pair')).toBe(market)
        expect(q.get('interval')).toBe(timeframe)
        expect(q.get('limit')).toBe(String(limit))
      })
    }
  })

  describe('documented responses', () => {
    it('fetches every requested market with one tickers request and parses each row', async () => {
      fake.route('/api/v4/spot/tickers', { kind: 'json', body: fixture('tickers.json') })
      const before = Date.now()
      const batch = await source.fetchTickers(['BTC_USDT', 'POL_USDT', 'US_USDT', 'NOPE_USDT'])

      expect(fake.requests).toHaveLength(1)
      expect(fake.requests[0]!.path).toBe('/api/v4/spot/tickers')
      expect([...fake.requests[0]!.query.keys()]).toEqual([])
      expect(batch.dropped).toBe(0)
      expect(batch.ticks.map((t) => t.market)).toEqual(['BTC_USDT', 'POL_USDT', 'US_USDT'])

      const pol = batch.ticks.find((t) => t.market === 'POL_USDT')!
      expect(pol).toEqual({
        source: 'gate',
        market: 'POL_USDT',
        last: 0.2214,
        open24h: null,
        high24h: 0.2251,
        low24h: 0.2131,
        changePercent24h: 3.41,
        baseVolume: 61203448.12,
        quoteVolume: 13381902.7719,
        ts: null,
        receivedAt: pol.receivedAt,
      })
      expect(pol.receivedAt).toBeGreaterThanOrEqual(before)

      const talus = batch.ticks.find((t) => t.market === 'US_USDT')!
      expect(talus.last).toBe(0.01873)
      expect(talus.changePercent24h).toBe(-5.32)
      expect(talus.quoteVolume).toBe(4122093.5568)
    })

    it('makes no request when no market is asked for', async () => {
      const batch = await source.fetchTickers([])
      expect(batch).toEqual({ ticks: [], dropped: 0, dropReasons: [] })
      expect(fake.requests).toHaveLength(0)
    })

    it('lists only tradable currency pairs', async () => {
      fake.route('/api/v4/spot/currency_pairs', { kind: 'json', body: fixture('currency_pairs.json') })
      const markets = await source.listMarkets()
      expect([...markets].sort()).toEqual(['BTC_USDT', 'ETH_USDT', 'POL_USDT', 'SOL_USDT', 'US_USDT'])
      expect(fake.requestsTo('/api/v4/spot/currency_pairs')).toHaveLength(1)
    })

    it('returns candles oldest first with ms timestamps, asking for the right interval and limit', async () => {
      fake.route('/api/v4/spot/candlesticks', { kind: 'json', body: fixture('candlesticks.json') })
      const candles = await source.fetchCandles('POL_USDT', '5m', 2)
      const q = fake.requestsTo('/api/v4/spot/candlesticks')[0]!.query
      expect(Object.fromEntries(q)).toEqual({ currency_pair: 'POL_USDT', interval: '5m', limit: '2' })
      // The fake ignores `limit` and sends all three rows: the adapter keeps the newest two.
      expect(candles).toEqual([
        { ts: 1732000500000, open: 0.2209, high: 0.2213, low: 0.2207, close: 0.2211, baseVolume: 175401.5 },
        { ts: 1732000800000, open: 0.2211, high: 0.2215, low: 0.221, close: 0.2214, baseVolume: 54227.8 },
      ])
      await source.fetchCandles('POL_USDT', '1h', 5000)
      const q2 = fake.requestsTo('/api/v4/spot/candlesticks')[1]!.query
      expect(q2.get('interval')).toBe('1h')
      expect(q2.get('limit')).toBe('1000')
    })

    it('drops a malformed candle and counts it', async () => {
      const metrics = createMetrics()
      const counted = createGateSource({ baseUrl: fake.url, timeoutMs: 2000, metrics })
      const rows = fixture('candlesticks.json') as unknown[][]
      rows[1]![2] = '0'
      fake.route('/api/v4/spot/candlesticks', { kind: 'json', body: rows })
      const candles = await counted.fetchCandles('POL_USDT', '5m', 10)
      expect(candles.map((c) => c.ts)).toEqual([1732000200000, 1732000800000])
      const dropped = await metrics.sourceDroppedRows.get()
      expect(dropped.values.find((v) => v.labels.source === 'gate')?.value).toBe(1)
      await counted.close()
    })

    it('rejects a body that is not a list as a schema error', async () => {
      fake.route('/api/v4/spot/tickers', { kind: 'json', body: { label: 'SERVER_ERROR', message: 'oops' } })
      await expect(source.fetchTickers(['BTC_USDT'])).rejects.toMatchObject({
        kind: 'schema',
        source: 'gate',
      })
    })
  })
})
