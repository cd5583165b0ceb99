import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMetrics, type Metrics } from '../../server/metrics.js'
import { createCoinbaseSource } from '../../server/sources/coinbase.js'
import { createCoinGeckoClient } from '../../server/sources/coingecko.js'
import { createGateSource } from '../../server/sources/gate.js'
import { createKrakenSource } from '../../server/sources/kraken.js'
import { createKucoinSource } from '../../server/sources/kucoin.js'
import { type Source, SourceError, type SourceOptions } from '../../server/sources/source.js'
import { FakeExchange, type FakeReply } from '../helpers/fake-exchange.js'

/**
 * Fault injection for the Gate, KuCoin, Coinbase Exchange and Kraken adapters (and the CoinGecko
 * client), each against a real local HTTP server, through the real undici client.
 */

/** One ticker row to serve: a `last` value (anything, to test bad prices) or a drifted shape. */
interface RowSpec {
  market: string
  last?: unknown
  drift?: boolean
}

interface Harness {
  id: 'gate' | 'kucoin' | 'coinbase' | 'kraken'
  create: (opts: SourceOptions) => Source
  /** Market name i in this exchange's spelling. */
  market: (i: number) => string
  /** Routes so that a fetchTickers over these markets sees exactly these rows. */
  serve: (fake: FakeExchange, rows: RowSpec[]) => void
  /** Routes every ticker request for these markets to `reply` (Kraken's AssetPairs stays healthy). */
  fault: (fake: FakeExchange, markets: string[], reply: FakeReply) => void
  /** HTTP 200 JSON bodies with an envelope that is not the documented one → schema error. */
  badEnvelopes: unknown[]
  candlesPath: (market: string) => string
  /** A candle row [t s, open, high, low, close, volume] in this exchange's layout. */
  candleRow: (t: number, o: unknown, h: unknown, l: unknown, c: unknown, v: unknown) => unknown[]
  candlesBody: (market: string, rows: unknown[]) => unknown
}

const TS = 1764000000000

const HARNESSES: Harness[] = [
  {
    id: 'gate',
    create: createGateSource,
    market: (i) => `T${i}_USDT`,
    serve: (fake, rows) => {
      const body = rows.map(({ market, last, drift }) => {
        const row: Record<string, unknown> = {
          currency_pair: market,
          last,
          lowest_ask: '10.01',
          highest_bid: '10',
          change_percentage: '1.5',
          base_volume: '1000',
          quote_volume: '10000',
          high_24h: '11',
          low_24h: '9',
        }
        if (drift) {
          row.last_price = row.last
          delete row.last
        }
        return row
      })
      body.push({ currency_pair: 'OTHER_USDT', last: '1', high_24h: '1', low_24h: '1' })
      fake.route('/api/v4/spot/tickers', { kind: 'json', body })
    },
    fault: (fake, _markets, reply) => fake.route('/api/v4/spot/tickers', reply),
    badEnvelopes: [{ label: 'INVALID_PARAM_VALUE', message: 'invalid' }, 'maintenance', null],
    candlesPath: () => '/api/v4/spot/candlesticks',
    candleRow: (t, o, h, l, c, v) => [String(t), '1000', c, h, l, o, v, 'true'],
    candlesBody: (_m, rows) => rows,
  },
  {
    id: 'kucoin',
    create: createKucoinSource,
    market: (i) => `T${i}-USDT`,
    serve: (fake, rows) => {
      const ticker = rows.map(({ market, last, drift }) => {
        const row: Record<string, unknown> = {
          symbol: market,
          symbolName: market,
          buy: '10',
          sell: '10.01',
          changeRate: '0.015',
          changePrice: '0.15',
          high: '11',
          low: '9',
          vol: '1000',
          volValue: '10000',
          last,
          averagePrice: '10',
        }
        if (drift) {
          row.lastTradedPrice = row.last
          delete row.last
        }
        return row
      })
      fake.route('/api/v1/market/allTickers', {
        kind: 'json',
        body: { code: '200000', data: { time: TS, ticker } },
      })
    },
    fault: (fake, _markets, reply) => fake.route('/api/v1/market/allTickers', reply),
    badEnvelopes: [
      { code: '400100', msg: 'Parameter Error' },
      { code: '200000', data: { time: TS, ticker: 'none' } },
      [],
    ],
    candlesPath: () => '/api/v1/market/candles',
    candleRow: (t, o, h, l, c, v) => [String(t), o, c, h, l, v, '100'],
    candlesBody: (_m, rows) => ({ code: '200000', data: rows }),
  },
  {
    id: 'coinbase',
    create: createCoinbaseSource,
    market: (i) => `T${i}-USD`,
    serve: (fake, rows) => {
      for (const { market, last, drift } of rows) {
        const ticker: Record<string, unknown> = {
          ask: '10.01',
          bid: '10',
          volume: '1000',
          trade_id: 1,
          price: last,
          size: '1',
          time: '2025-11-24T16:00:00.000Z',
        }
        if (drift) ticker.price = { value: last }
        fake.route(`/products/${market}/ticker`, { kind: 'json', body: ticker })
        fake.route(`/products/${market}/stats`, {
          kind: 'json',
          body: { open: '9.8', high: '11', low: '9', last: '10', volume: '1000', volume_30day: '30000' },
        })
      }
    },
    fault: (fake, markets, reply) => {
      for (const m of markets) {
        fake.route(`/products/${m}/stats`, reply)
        fake.route(`/products/${m}/ticker`, reply)
      }
    },
    // Coinbase has no envelope: each product's body is the row (see the test below).
    badEnvelopes: [],
    candlesPath: (m) => `/products/${m}/candles`,
    candleRow: (t, o, h, l, c, v) => [t, l, h, o, c, v],
    candlesBody: (_m, rows) => rows,
  },
  {
    id: 'kraken',
    create: createKrakenSource,
    market: (i) => `T${i}USD`,
    serve: (fake, rows) => {
      routeKrakenPairs(
        fake,
        rows.map((r) => r.market),
      )
      const result: Record<string, unknown> = {}
      for (const { market, last, drift } of rows) {
        result[`X${market}`] = {
          a: ['10.01', '1', '1.000'],
          b: ['10', '1', '1.000'],
          c: drift ? { price: last } : [last, '0.1'],
          v: ['500', '1000'],
          p: ['10', '10'],
          t: [10, 20],
          l: ['9.5', '9'],
          h: ['10.5', '11'],
          o: '9.9',
        }
      }
      fake.route('/0/public/Ticker', { kind: 'json', body: { error: [], result } })
    },
    fault: (fake, markets, reply) => {
      routeKrakenPairs(fake, markets)
      fake.route('/0/public/Ticker', reply)
    },
    badEnvelopes: [{ error: ['EGeneral:Internal error'] }, { result: {} }, 'maintenance'],
    candlesPath: () => '/0/public/OHLC',
    candleRow: (t, o, h, l, c, v) => [t, o, h, l, c, '10', v, 3],
    candlesBody: (m, rows) => ({ error: [], result: { [`X${m}`]: rows, last: 1 } }),
  },
]

/** AssetPairs listing these altnames under canonical keys that differ from them (X + altname). */
function routeKrakenPairs(fake: FakeExchange, altnames: string[]): void {
  const result = Object.fromEntries(altnames.map((m) => [`X${m}`, { altname: m, status: 'online' }]))
  fake.route('/0/public/AssetPairs', { kind: 'json', body: { error: [], result } })
}

/** A prom-client counter's value for the series whose labels include these. */
async function counterValue(
  metric: { get: () => Promise<{ values: Array<{ value: number; labels: object }> }> },
  labels: Record<string, string>,
): Promise<number> {
  const { values } = await metric.get()
  return values
    .filter((v) =>
      Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want),
    )
    .reduce((sum, v) => sum + v.value, 0)
}

/** Prices that must never become a tick: zero, negative, not a number, absurd, wrong type. */
const BAD_PRICES: unknown[] = [
  0,
  '0',
  '-1',
  -5,
  'abc',
  '',
  '1e999',
  'Infinity',
  'NaN',
  null,
  {},
  true,
  ['10'],
]

const TIMEOUT_MS = 300

interface HttpFault {
  name: string
  reply: FakeReply
  kind: SourceError['kind']
  status?: number
  retryAfterMs?: number
}

const HTTP_FAULTS: HttpFault[] = [
  {
    name: '429 with Retry-After',
    reply: { kind: 'status', status: 429, headers: { 'retry-after': '3' } },
    kind: 'rate_limited',
    status: 429,
    retryAfterMs: 3000,
  },
  {
    name: '500',
    reply: { kind: 'status', status: 500, body: '{"error":"internal"}' },
    kind: 'http',
    status: 500,
  },
  { name: 'a hung request', reply: { kind: 'hang' }, kind: 'timeout' },
  { name: 'a connection reset', reply: { kind: 'reset' }, kind: 'network' },
  { name: 'invalid JSON', reply: { kind: 'raw', body: '{"result": [1, 2' }, kind: 'invalid_json' },
]

describe.each(HARNESSES)('$id adapter under faults', (h) => {
  let fake: FakeExchange
  let metrics: Metrics
  let source: Source
  const markets = [h.market(1), h.market(2)]

  beforeEach(async () => {
    fake = await new FakeExchange().start()
    metrics = createMetrics()
    source = h.create({ baseUrl: fake.url, timeoutMs: TIMEOUT_MS, metrics })
  })
  afterEach(async () => {
    await source.close()
    await fake.stop()
  })

  it.each(HTTP_FAULTS)('turns $name into a SourceError of kind $kind', async (fault) => {
    h.fault(fake, markets, fault.reply)
    const started = Date.now()
    const err = await source.fetchTickers(markets).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SourceError)
    expect(err).toMatchObject({ source: h.id, kind: fault.kind })
    if (fault.status !== undefined) expect((err as SourceError).status).toBe(fault.status)
    if (fault.retryAfterMs !== undefined) expect((err as SourceError).retryAfterMs).toBe(fault.retryAfterMs)
    // Bounded: a hung exchange costs about one timeout, never more than a few.
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 5)
    expect(
      await counterValue(metrics.sourceErrors, { source: h.id, kind: fault.kind }),
    ).toBeGreaterThanOrEqual(1)
  })

  it('drops a schema-drifted row, counts it, and keeps the other rows', async () => {
    const three = [h.market(1), h.market(2), h.market(3)]
    h.serve(fake, [
      { market: three[0]!, last: '10.5' },
      { market: three[1]!, last: '10.5', drift: true },
      { market: three[2]!, last: '10.25' },
    ])
    const batch = await source.fetchTickers(three)
    expect(batch.ticks.map((t) => t.market).sort()).toEqual([three[0], three[2]])
    expect(batch.ticks.map((t) => t.last).sort()).toEqual([10.25, 10.5])
    expect(batch.dropped).toBe(1)
    expect(batch.dropReasons).toHaveLength(1)
    expect(batch.dropReasons[0]).toContain(three[1])
    expect(await counterValue(metrics.sourceDroppedRows, { source: h.id })).toBe(1)
  })

  it('never turns a zero, negative, non-numeric, absurd or wrongly typed price into a tick', async () => {
    const good = h.market(0)
    const bad = BAD_PRICES.map((_, i) => h.market(i + 1))
    h.serve(fake, [{ market: good, last: '10' }, ...BAD_PRICES.map((last, i) => ({ market: bad[i]!, last }))])
    const batch = await source.fetchTickers([good, ...bad])
    expect(batch.ticks.map((t) => t.market)).toEqual([good])
    expect(batch.ticks[0]!.last).toBe(10)
    for (const t of batch.ticks) expect(Number.isFinite(t.last) && t.last > 0).toBe(true)
    expect(batch.dropped).toBe(BAD_PRICES.length)
    expect(batch.dropReasons.length).toBeGreaterThan(0)
    expect(await counterValue(metrics.sourceDroppedRows, { source: h.id })).toBe(BAD_PRICES.length)
  })

  it('drops a malformed candle, counts it, and keeps the others in order', async () => {
    const m = h.market(1)
    const rows = [
      h.candleRow(1764000600, '10.2', '10.4', '10.1', '10.3', '5'),
      h.candleRow(1764000300, '10', '10.3', '9.9', 'abc', '5'),
      h.candleRow(1764000000, '9.9', '10.1', '9.8', '10', '5'),
    ]
    if (h.id === 'kraken') routeKrakenPairs(fake, [m])
    fake.route(h.candlesPath(m), { kind: 'json', body: h.candlesBody(m, rows) })
    const candles = await source.fetchCandles(m, '5m', 10)
    expect(candles).toEqual([
      { ts: 1764000000000, open: 9.9, high: 10.1, low: 9.8, close: 10, baseVolume: 5 },
      { ts: 1764000600000, open: 10.2, high: 10.4, low: 10.1, close: 10.3, baseVolume: 5 },
    ])
    expect(await counterValue(metrics.sourceDroppedRows, { source: h.id })).toBe(1)
  })

  it('turns a 500 on the candles endpoint into an http error', async () => {
    const m = h.market(1)
    fake.route(h.candlesPath(m), { kind: 'status', status: 500 })
    await expect(source.fetchCandles(m, '1h', 10)).rejects.toMatchObject({
      source: h.id,
      kind: 'http',
      status: 500,
    })
  })
})

describe.each(HARNESSES.filter((h) => h.badEnvelopes.length > 0))('$id envelope', (h) => {
  it('rejects an undocumented envelope as a schema error', async () => {
    const fake = await new FakeExchange().start()
    const metrics = createMetrics()
    const source = h.create({ baseUrl: fake.url, timeoutMs: TIMEOUT_MS, metrics })
    const markets = [h.market(1), h.market(2)]
    try {
      for (const body of h.badEnvelopes) {
        h.fault(fake, markets, { kind: 'json', body })
        await expect(source.fetchTickers(markets)).rejects.toMatchObject({ source: h.id, kind: 'schema' })
      }
      expect(await counterValue(metrics.sourceErrors, { source: h.id, kind: 'schema' })).toBe(
        h.badEnvelopes.length,
      )
    } finally {
      await source.close()
      await fake.stop()
    }
  })
})

describe('coinbase products whose bodies are not objects', () => {
  it('drops each such product as a malformed row instead of failing the poll', async () => {
    const fake = await new FakeExchange().start()
    const metrics = createMetrics()
    const source = createCoinbaseSource({ baseUrl: fake.url, timeoutMs: TIMEOUT_MS, metrics })
    try {
      HARNESSES.find((x) => x.id === 'coinbase')!.serve(fake, [{ market: 'T1-USD', last: '10' }])
      fake.route('/products/T2-USD/stats', { kind: 'json', body: 'maintenance' })
      fake.route('/products/T2-USD/ticker', { kind: 'json', body: [] })
      const batch = await source.fetchTickers(['T1-USD', 'T2-USD'])
      expect(batch.ticks.map((t) => t.market)).toEqual(['T1-USD'])
      expect(batch.dropped).toBe(1)
      expect(await counterValue(metrics.sourceDroppedRows, { source: 'coinbase' })).toBe(1)
    } finally {
      await source.close()
      await fake.stop()
    }
  })
})

describe('coingecko client under faults', () => {
  let fake: FakeExchange
  let metrics: Metrics

  beforeEach(async () => {
    fake = await new FakeExchange().start()
    metrics = createMetrics()
  })
  afterEach(async () => {
    await fake.stop()
  })

  it.each(HTTP_FAULTS)('turns $name into a SourceError of kind $kind', async (fault) => {
    const client = createCoinGeckoClient({ baseUrl: fake.url, timeoutMs: TIMEOUT_MS, metrics })
    try {
      fake.route('/api/v3/coins/markets', fault.reply)
      const err = await client.fetchMarketData(['bitcoin']).catch((e: unknown) => e)
      expect(err).toMatchObject({ source: 'coingecko', kind: fault.kind })
      if (fault.retryAfterMs !== undefined) expect((err as SourceError).retryAfterMs).toBe(fault.retryAfterMs)
      expect(await counterValue(metrics.sourceErrors, { source: 'coingecko', kind: fault.kind })).toBe(1)
    } finally {
      await client.close()
    }
  })
})
