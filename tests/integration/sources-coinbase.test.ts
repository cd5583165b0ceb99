import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMetrics } from '../../server/metrics.js'
import { createCoinbaseSource } from '../../server/sources/coinbase.js'
import type { Source } from '../../server/sources/source.js'
import { asCcxtRow, type CcxtTicker, docFixture } from '../helpers/ccxt.js'
import { ccxtCases, FakeExchange, hasCcxtFixtures } from '../helpers/fake-exchange.js'

const fixture = <T = unknown>(name: string): T => docFixture<T>('coinbase', name)

type PerProduct = Record<string, Record<string, unknown>>

/** Routes /products/{id}/stats and /ticker from the documented per-product bodies. */
function routeProducts(fake: FakeExchange, products: readonly string[]): void {
  const stats = fixture<PerProduct>('stats.json')
  const ticker = fixture<PerProduct>('ticker.json')
  for (const id of products) {
    fake.route(`/products/${id}/stats`, { kind: 'json', body: stats[id] })
    fake.route(`/products/${id}/ticker`, { kind: 'json', body: ticker[id] })
  }
}

describe('coinbase exchange source', () => {
  let fake: FakeExchange
  let source: Source

  beforeEach(async () => {
    fake = await new FakeExchange().start()
    source = createCoinbaseSource({ baseUrl: fake.url, timeoutMs: 2000 })
  })
  afterEach(async () => {
    await source.close()
    await fake.stop()
  })

  // coinbase.json in the ccxt kit is the Advanced Trade API (api.coinbase.com), a different API: not used.
  describe.runIf(hasCcxtFixtures)('recorded real responses (ccxt coinbaseexchange.json)', () => {
    const cases = hasCcxtFixtures ? ccxtCases('coinbaseexchange') : {}

    for (const c of cases.fetchTicker ?? []) {
      it(`fetchTicker: ${c.description}`, async () => {
        const product = (c.input[0] as string).replace('/', '-')
        const stats = {
          open: '72001.00',
          high: '73700.00',
          low: '71200.50',
          last: '73367.80',
          volume: '1207.50668151',
        }
        fake.route(`/products/${product}/ticker`, { kind: 'json', body: c.httpResponse })
        fake.route(`/products/${product}/stats`, { kind: 'json', body: stats })
        const batch = await source.fetchTickers([product])
        const want = c.parsedResponse as CcxtTicker
        expect(batch.dropped).toBe(0)
        const tick = batch.ticks[0]!
        // last, base volume and time come from the recorded /ticker body, as in ccxt.
        expect(tick.last).toBe(want.last)
        expect(tick.baseVolume).toBe(want.baseVolume)
        expect(tick.ts).toBe(want.timestamp)
        // ccxt's fetchTicker reads /ticker only, so its open/high/low/percentage are null; we also
        // read /stats (rolling 24 h), served here from our own body.
        expect(want.high).toBeNull()
        expect(tick.open24h).toBe(72001)
        expect(tick.high24h).toBe(73700)
        expect(tick.low24h).toBe(71200.5)
        expect(tick.changePercent24h).toBeCloseTo(((want.last - 72001) / 72001) * 100, 10)
        // ccxt has no quote volume; ours is the documented estimate base volume × last.
        expect(want.quoteVolume).toBeNull()
        expect(tick.quoteVolume).toBeCloseTo(want.baseVolume! * want.last, 6)
      })
    }

    for (const c of cases.fetchOHLCV ?? []) {
      it(`fetchOHLCV: ${c.description}`, async () => {
        const [symbol, timeframe, , limit] = c.input as [string, '5m' | '1h', number | null, number]
        const product = symbol.replace('/', '-')
        fake.route(`/products/${product}/candles`, { kind: 'json', body: c.httpResponse })
        const candles = await source.fetchCandles(product, timeframe, limit)
        expect(candles.map(asCcxtRow)).toEqual(c.parsedResponse)
        expect(fake.requestsTo(`/products/${product}/candles`)[0]!.query.get('granularity')).toBe('3600')
      })
    }
  })

  describe('documented responses', () => {
    it('asks each product for stats and ticker once and builds a rolling 24 h tick', async () => {
      const products = ['BTC-USD', 'POL-USD']
      routeProducts(fake, products)
      const batch = await source.fetchTickers(products)

      expect(fake.requests).toHaveLength(4)
      for (const id of products) {
        expect(fake.requestsTo(`/products/${id}/stats`)).toHaveLength(1)
        expect(fake.requestsTo(`/products/${id}/ticker`)).toHaveLength(1)
      }
      expect(batch.dropped).toBe(0)
      expect(batch.ticks.map((t) => t.market).sort()).toEqual(products)

      const pol = batch.ticks.find((t) => t.market === 'POL-USD')!
      expect(pol).toEqual({
        source: 'coinbase',
        market: 'POL-USD',
        last: 0.2215,
        open24h: 0.2142,
        high24h: 0.2253,
        low24h: 0.2129,
        changePercent24h: pol.changePercent24h,
        baseVolume: 9120044.3,
        quoteVolume: pol.quoteVolume,
        ts: Date.parse('2024-11-19T07:21:58.004Z'),
        receivedAt: pol.receivedAt,
      })
      expect(pol.changePercent24h).toBeCloseTo(((0.2215 - 0.2142) / 0.2142) * 100, 10)
      expect(pol.quoteVolume).toBeCloseTo(9120044.3 * 0.2215, 4)
    })

    it('keeps at most 4 requests in flight and raises minPollMs with the product count', async () => {
      const stats = fixture<PerProduct>('stats.json')['BTC-USD']
      const ticker = fixture<PerProduct>('ticker.json')['BTC-USD']
      let inFlight = 0
      let maxInFlight = 0
      const seen: string[] = []
      // A real server that answers after 40 ms, so overlapping requests are visible.
      const server = createServer((req, res) => {
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        seen.push(req.url ?? '')
        setTimeout(() => {
          inFlight--
          const body = req.url?.endsWith('/stats') ? stats : ticker
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
        }, 40)
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const cb = createCoinbaseSource({ baseUrl: url, timeoutMs: 2000 })
      try {
        expect(cb.minPollMs).toBe(Math.ceil((4 * 2 * 1000) / 6))
        const products = ['A-USD', 'B-USD', 'C-USD', 'D-USD', 'E-USD', 'F-USD']
        const batch = await cb.fetchTickers(products)
        expect(batch.ticks).toHaveLength(6)
        expect(seen).toHaveLength(12)
        expect(maxInFlight).toBeGreaterThan(1)
        expect(maxInFlight).toBeLessThanOrEqual(4)
        // 12 requests per poll within a 6 requests/s budget.
        expect(cb.minPollMs).toBe(2000)
      } finally {
        await cb.close()
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      }
    })

    it('leaves out a product that alone fails and counts the error', async () => {
      const metrics = createMetrics()
      const cb = createCoinbaseSource({ baseUrl: fake.url, timeoutMs: 2000, metrics })
      routeProducts(fake, ['BTC-USD'])
      fake.route('/products/GONE-USD/stats', { kind: 'status', status: 404, body: '{"message":"NotFound"}' })
      fake.route('/products/GONE-USD/ticker', { kind: 'status', status: 404, body: '{"message":"NotFound"}' })
      const batch = await cb.fetchTickers(['BTC-USD', 'GONE-USD'])
      expect(batch.ticks.map((t) => t.market)).toEqual(['BTC-USD'])
      expect(batch.dropped).toBe(0)
      // Both of its requests (stats and ticker) failed, each counted once by the HTTP client.
      const errors = await metrics.sourceErrors.get()
      expect(
        errors.values.find((v) => v.labels.source === 'coinbase' && v.labels.kind === 'http')?.value,
      ).toBe(2)
      await cb.close()
    })

    it('fails the poll when any product is rate limited', async () => {
      routeProducts(fake, ['BTC-USD'])
      fake.route('/products/ETH-USD/stats', { kind: 'status', status: 429, headers: { 'retry-after': '2' } })
      fake.route('/products/ETH-USD/ticker', {
        kind: 'json',
        body: fixture<PerProduct>('ticker.json')['ETH-USD'],
      })
      await expect(source.fetchTickers(['BTC-USD', 'ETH-USD'])).rejects.toMatchObject({
        kind: 'rate_limited',
        retryAfterMs: 2000,
      })
    })

    it('lists online products that are not trading-disabled', async () => {
      fake.route('/products', { kind: 'json', body: fixture('products.json') })
      const markets = await source.listMarkets()
      expect([...markets].sort()).toEqual(['BTC-USD', 'ETH-USD', 'POL-USD', 'SOL-USD'])
    })

    it('reorders candles oldest first, converts seconds and keeps the newest `limit`', async () => {
      fake.route('/products/POL-USD/candles', { kind: 'json', body: fixture('candles.json') })
      const candles = await source.fetchCandles('POL-USD', '5m', 2)
      expect(fake.requestsTo('/products/POL-USD/candles')[0]!.query.get('granularity')).toBe('300')
      expect(candles).toEqual([
        { ts: 1732000500000, open: 0.2209, high: 0.2213, low: 0.2207, close: 0.2211, baseVolume: 60339.8 },
        { ts: 1732000800000, open: 0.2211, high: 0.2216, low: 0.221, close: 0.2215, baseVolume: 41201.3 },
      ])
    })
  })
})
