import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMetrics } from '../../server/metrics.js'
import { createKrakenSource } from '../../server/sources/kraken.js'
import type { Source } from '../../server/sources/source.js'
import { asCcxtRow, type CcxtTicker, docFixture } from '../helpers/ccxt.js'
import { ccxtCases, FakeExchange, hasCcxtFixtures } from '../helpers/fake-exchange.js'

const fixture = <T = unknown>(name: string): T => docFixture<T>('kraken', name)

describe('kraken source', () => {
  let fake: FakeExchange
  let source: Source

  beforeEach(async () => {
    fake = await new FakeExchange().start()
    fake.route('/0/public/AssetPairs', { kind: 'json', body: fixture('AssetPairs.json') })
    source = createKrakenSource({ baseUrl: fake.url, timeoutMs: 2000 })
  })
  afterEach(async () => {
    await source.close()
    await fake.stop()
  })

  describe.runIf(hasCcxtFixtures)('recorded real responses (ccxt kraken.json)', () => {
    const cases = hasCcxtFixtures ? ccxtCases('kraken') : {}

    for (const c of cases.fetchTicker ?? []) {
      it(`fetchTicker: ${c.description}`, async () => {
        const body = c.httpResponse as { result: Record<string, unknown> }
        const pair = Object.keys(body.result)[0]!
        fake.route('/0/public/Ticker', { kind: 'json', body })
        const batch = await source.fetchTickers([pair])
        const want = c.parsedResponse as CcxtTicker
        expect(batch.dropped).toBe(0)
        const tick = batch.ticks[0]!
        expect(tick.market).toBe(pair)
        expect(tick.last).toBe(want.last)
        expect(tick.high24h).toBe(want.high)
        expect(tick.low24h).toBe(want.low)
        expect(tick.baseVolume).toBe(want.baseVolume)
        expect(tick.quoteVolume).toBeCloseTo(want.quoteVolume!, 6)
        expect(tick.ts).toBe(want.timestamp)
        // ccxt reports `o` as open and computes percentage from it; `o` is the open since 00:00 UTC,
        // not 24 h ago, so we publish neither (aggregation takes change24h from history instead).
        expect(want.open).not.toBeNull()
        expect(want.percentage).not.toBeNull()
        expect(tick.open24h).toBeNull()
        expect(tick.changePercent24h).toBeNull()
      })
    }

    for (const c of cases.fetchOHLCV ?? []) {
      it(`fetchOHLCV: ${c.description}`, async () => {
        const [symbol, timeframe] = c.input as [string, '5m' | '1h']
        const body = c.httpResponse as { result: Record<string, unknown[]> }
        const pair = symbol.replace('/', '').replace('BTC', 'XBT')
        fake.route('/0/public/OHLC', { kind: 'json', body })
        const candles = await source.fetchCandles(pair, timeframe, 720)
        const q = fake.requestsTo('/0/public/OHLC')[0]!.query
        expect(q.get('pair')).toBe(pair)
        expect(q.get('interval')).toBe('60')
        // ccxt filtered its rows by `since` and `limit`; we return every row (oldest first), and
        // each row ccxt kept must be among ours, identical.
        expect(candles).toHaveLength(body.result[pair]!.length)
        const ours = candles.map(asCcxtRow)
        for (const row of c.parsedResponse as unknown[][]) expect(ours).toContainEqual(row)
        expect(candles.map((x) => x.ts)).toEqual([...candles.map((x) => x.ts)].sort((a, b) => a - b))
      })
    }
  })

  describe('documented responses', () => {
    it('lists the altnames of online pairs', async () => {
      const markets = await source.listMarkets()
      expect([...markets].sort()).toEqual(['ETHUSD', 'POLUSD', 'SOLUSD', 'XBTUSD', 'XBTUSDT'])
    })

    it('asks for all pairs in one Ticker request and maps canonical keys back to altnames', async () => {
      fake.route('/0/public/Ticker', { kind: 'json', body: fixture('Ticker.json') })
      await source.listMarkets()
      const batch = await source.fetchTickers(['XBTUSD', 'ETHUSD', 'SOLUSD', 'POLUSD'])

      const tickerRequests = fake.requestsTo('/0/public/Ticker')
      expect(tickerRequests).toHaveLength(1)
      expect(tickerRequests[0]!.query.get('pair')).toBe('XBTUSD,ETHUSD,SOLUSD,POLUSD')
      expect(fake.requestsTo('/0/public/AssetPairs')).toHaveLength(1)
      expect(batch.dropped).toBe(0)
      expect(batch.ticks.map((t) => t.market).sort()).toEqual(['ETHUSD', 'POLUSD', 'SOLUSD', 'XBTUSD'])

      const btc = batch.ticks.find((t) => t.market === 'XBTUSD')!
      expect(btc).toMatchObject({ source: 'kraken', last: 97021, high24h: 98501.2, low24h: 95633.1 })
      expect(btc.baseVolume).toBe(3021.88410233)
      expect(btc.quoteVolume).toBeCloseTo(3021.88410233 * 97012.40217, 4)

      const pol = batch.ticks.find((t) => t.market === 'POLUSD')!
      expect(pol).toEqual({
        source: 'kraken',
        market: 'POLUSD',
        last: 0.2215,
        // `o` (0.2185) is since 00:00 UTC: never an open24h, and no change percent either.
        open24h: null,
        high24h: 0.2253,
        low24h: 0.2129,
        changePercent24h: null,
        baseVolume: 3102288.91,
        quoteVolume: pol.quoteVolume,
        ts: null,
        receivedAt: pol.receivedAt,
      })
      expect(pol.quoteVolume).toBeCloseTo(3102288.91 * 0.21944, 6)
    })

    it('loads AssetPairs once by itself when listMarkets was not called, then reuses it', async () => {
      fake.route('/0/public/Ticker', { kind: 'json', body: fixture('Ticker.json') })
      await source.fetchTickers(['XBTUSD', 'POLUSD'])
      await source.fetchTickers(['XBTUSD', 'POLUSD'])
      expect(fake.requestsTo('/0/public/AssetPairs')).toHaveLength(1)
      expect(fake.requestsTo('/0/public/Ticker')).toHaveLength(2)
    })

    it('leaves pairs Kraken does not list out of the request (one unknown pair fails all of it)', async () => {
      fake.route('/0/public/Ticker', { kind: 'json', body: fixture('Ticker.json') })
      await source.listMarkets()
      const batch = await source.fetchTickers(['POLUSD', 'USUSD'])
      expect(fake.requestsTo('/0/public/Ticker')[0]!.query.get('pair')).toBe('POLUSD')
      expect(batch.ticks.map((t) => t.market)).toEqual(['POLUSD'])

      const none = await source.fetchTickers(['USUSD'])
      expect(none).toEqual({ ticks: [], dropped: 0, dropReasons: [] })
      expect(fake.requestsTo('/0/public/Ticker')).toHaveLength(1)
    })

    it('turns a non-empty error array into a schema error, a rate-limit error into rate_limited', async () => {
      const metrics = createMetrics()
      const kraken = createKrakenSource({ baseUrl: fake.url, timeoutMs: 2000, metrics })
      await kraken.listMarkets()
      fake.route('/0/public/Ticker', { kind: 'json', body: { error: ['EQuery:Unknown asset pair'] } })
      await expect(kraken.fetchTickers(['XBTUSD'])).rejects.toMatchObject({
        kind: 'schema',
        source: 'kraken',
      })
      fake.route('/0/public/Ticker', { kind: 'json', body: { error: ['EAPI:Rate limit exceeded'] } })
      await expect(kraken.fetchTickers(['XBTUSD'])).rejects.toMatchObject({ kind: 'rate_limited' })
      fake.route('/0/public/Ticker', { kind: 'json', body: ['not', 'an', 'envelope'] })
      await expect(kraken.fetchTickers(['XBTUSD'])).rejects.toMatchObject({ kind: 'schema' })
      const errors = (await metrics.sourceErrors.get()).values.filter((v) => v.labels.source === 'kraken')
      expect(errors.find((v) => v.labels.kind === 'schema')?.value).toBe(2)
      expect(errors.find((v) => v.labels.kind === 'rate_limited')?.value).toBe(1)
      await kraken.close()
    })

    it('returns the newest candles oldest first, asking for the interval in minutes', async () => {
      fake.route('/0/public/OHLC', { kind: 'json', body: fixture('OHLC.json') })
      const candles = await source.fetchCandles('POLUSD', '5m', 2)
      const q = fake.requestsTo('/0/public/OHLC')[0]!.query
      expect(Object.fromEntries(q)).toEqual({ pair: 'POLUSD', interval: '5' })
      expect(candles).toEqual([
        { ts: 1732000500000, open: 0.2209, high: 0.2213, low: 0.2207, close: 0.2211, baseVolume: 15022.8 },
        { ts: 1732000800000, open: 0.2211, high: 0.2216, low: 0.221, close: 0.2215, baseVolume: 4120.5 },
      ])
      await source.fetchCandles('POLUSD', '1h', 24)
      expect(fake.requestsTo('/0/public/OHLC')[1]!.query.get('interval')).toBe('60')
    })
  })
})
