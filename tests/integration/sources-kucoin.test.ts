import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createKucoinSource } from '../../server/sources/kucoin.js'
import type { Source } from '../../server/sources/source.js'
import { asCcxtRow, type CcxtTicker, docFixture } from '../helpers/ccxt.js'
import { ccxtCases, FakeExchange, hasCcxtFixtures } from '../helpers/fake-exchange.js'

const fixture = <T = unknown>(name: string): T => docFixture<T>('kucoin', name)

describe('kucoin source', () => {
  let fake: FakeExchange
  let source: Source

  beforeEach(async () => {
    fake = await new FakeExchange().start()
    source = createKucoinSource({ baseUrl: fake.url, timeoutMs: 2000 })
  })
  afterEach(async () => {
    await source.close()
    await fake.stop()
  })

  describe.runIf(hasCcxtFixtures)('recorded real responses (ccxt kucoin.json)', () => {
    const cases = hasCcxtFixtures ? ccxtCases('kucoin') : {}

    for (const c of cases.fetchTicker ?? []) {
      it(`fetchTicker: ${c.description}`, async () => {
        // The recording is GET /api/v1/market/stats (one symbol). Its row has the same fields as a
        // row of /api/v1/market/allTickers, which we poll, so it is served inside that envelope:
        // the response-level `time` moves up a level, the row is untouched.
        const { code, data } = c.httpResponse as { code: string; data: { time: number; symbol: string } }
        const { time, ...row } = data
        fake.route('/api/v1/market/allTickers', {
          kind: 'json',
          body: { code, data: { time, ticker: [row] } },
        })
        const batch = await source.fetchTickers([row.symbol])
        const want = c.parsedResponse as CcxtTicker
        expect(batch.dropped).toBe(0)
        const tick = batch.ticks[0]!
        expect(tick.market).toBe(row.symbol)
        expect(tick.last).toBe(want.last)
        expect(tick.open24h).toBeCloseTo(want.open!, 8)
        expect(tick.high24h).toBe(want.high)
        expect(tick.low24h).toBe(want.low)
        expect(tick.changePercent24h).toBeCloseTo(want.percentage!, 10)
        expect(tick.baseVolume).toBe(want.baseVolume)
        expect(tick.quoteVolume).toBeCloseTo(want.quoteVolume!, 6)
        expect(tick.ts).toBe(want.timestamp)
      })
    }

    for (const c of cases.fetchOHLCV ?? []) {
      it(`fetchOHLCV: ${c.description}`, async () => {
        const [symbol, timeframe, , limit] = c.input as [string, '5m' | '1h', number | null, number]
        const market = symbol.replace('/', '-')
        fake.route('/api/v1/market/candles', { kind: 'json', body: c.httpResponse })
        const candles = await source.fetchCandles(market, timeframe, limit)
        expect(candles.map(asCcxtRow)).toEqual(c.parsedResponse)
        const q = fake.requestsTo('/api/v1/market/candles')[0]!.query
        expect(q.get('symbol')).toBe(market)
        expect(q.get('type')).toBe('1hour')
      })
    }
  })

  describe('documented responses', () => {
    it('fetches every requested market with one allTickers request and normalises it', async () => {
      fake.route('/api/v1/market/allTickers', { kind: 'json', body: fixture('allTickers.json') })
      const batch = await source.fetchTickers(['BTC-USDT', 'POL-USDT', 'US-USDT'])

      expect(fake.requests).toHaveLength(1)
      expect(fake.requests[0]!.path).toBe('/api/v1/market/allTickers')
      expect([...fake.requests[0]!.query.keys()]).toEqual([])
      expect(batch.dropped).toBe(0)
      expect(batch.ticks.map((t) => t.market)).toEqual(['BTC-USDT', 'POL-USDT', 'US-USDT'])

      const pol = batch.ticks.find((t) => t.market === 'POL-USDT')!
      expect(pol.last).toBe(0.2214)
      // changeRate 0.0338 is a fraction: 3.38 %.
      expect(pol.changePercent24h).toBeCloseTo(3.38, 10)
      // Rolling 24 h open = last - changePrice.
      expect(pol.open24h).toBeCloseTo(0.2214 - 0.00724, 12)
      expect(pol.high24h).toBe(0.2252)
      expect(pol.low24h).toBe(0.213)
      expect(pol.baseVolume).toBe(33120811.2)
      expect(pol.quoteVolume).toBe(7334101.822)
      // The response-level time stamps every tick.
      expect(pol.ts).toBe(1732000934112)

      const talus = batch.ticks.find((t) => t.market === 'US-USDT')!
      expect(talus.last).toBe(0.018728)
      expect(talus.changePercent24h).toBeCloseTo(-5.29, 10)
      expect(talus.open24h).toBeCloseTo(0.019774, 12)
      expect(talus.quoteVolume).toBe(2301988.6142)
    })

    it('keeps a new listing without 24 h change as a tick with null change and open', async () => {
      const body = fixture('allTickers.json') as { data: { ticker: Array<Record<string, unknown>> } }
      const us = body.data.ticker.find((r) => r.symbol === 'US-USDT')!
      us.changeRate = null
      us.changePrice = null
      fake.route('/api/v1/market/allTickers', { kind: 'json', body })
      const batch = await source.fetchTickers(['US-USDT'])
      expect(batch.ticks[0]).toMatchObject({
        market: 'US-USDT',
        last: 0.018728,
        open24h: null,
        changePercent24h: null,
      })
    })

    it('treats a code other than 200000 as a schema error naming the code', async () => {
      fake.route('/api/v1/market/allTickers', {
        kind: 'json',
        body: { code: '400100', msg: 'Parameter Error' },
      })
      const err = await source.fetchTickers(['BTC-USDT']).catch((e: unknown) => e)
      expect(err).toMatchObject({ kind: 'schema', source: 'kucoin' })
      expect(String((err as Error).message)).toContain('400100')
    })

    it('lists only symbols with trading enabled', async () => {
      fake.route('/api/v2/symbols', { kind: 'json', body: fixture('symbols.json') })
      const markets = await source.listMarkets()
      expect([...markets].sort()).toEqual(['BTC-USDT', 'ETH-USDT', 'POL-USDT', 'SOL-USDT', 'US-USDT'])
    })

    it('asks for the time range of `limit` candles and returns them oldest first', async () => {
      fake.route('/api/v1/market/candles', { kind: 'json', body: fixture('candles.json') })
      const candles = await source.fetchCandles('US-USDT', '1h', 2)
      const q = fake.requestsTo('/api/v1/market/candles')[0]!.query
      expect(q.get('symbol')).toBe('US-USDT')
      expect(q.get('type')).toBe('1hour')
      expect(Number(q.get('endAt')) - Number(q.get('startAt'))).toBe(2 * 3600)
      expect(Math.abs(Number(q.get('endAt')) * 1000 - Date.now())).toBeLessThan(5000)
      expect(candles).toEqual([
        {
          ts: 1731999600000,
          open: 0.01881,
          high: 0.01884,
          low: 0.01861,
          close: 0.01869,
          baseVolume: 5120992.1,
        },
        {
          ts: 1732003200000,
          open: 0.01869,
          high: 0.01876,
          low: 0.01866,
          close: 0.018728,
          baseVolume: 1822031.5,
        },
      ])

      await source.fetchCandles('US-USDT', '5m', 12)
      const q2 = fake.requestsTo('/api/v1/market/candles')[1]!.query
      expect(q2.get('type')).toBe('5min')
      expect(Number(q2.get('endAt')) - Number(q2.get('startAt'))).toBe(12 * 300)
    })
  })
})
