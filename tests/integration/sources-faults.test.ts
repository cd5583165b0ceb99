import { afterEach, describe, expect, it } from 'vitest'
import { configFrom } from '../../server/config.js'
import { createMetrics, type Metrics } from '../../server/metrics.js'
import { createBinanceSource } from '../../server/sources/binance.js'
import { createBybitSource } from '../../server/sources/bybit.js'
import { createSource } from '../../server/sources/index.js'
import { createMexcSource } from '../../server/sources/mexc.js'
import { createOkxSource } from '../../server/sources/okx.js'
import { type Source, SourceError, type SourceOptions } from '../../server/sources/source.js'
import { FakeExchange, type FakeRoute } from '../helpers/fake-exchange.js'

/** How one adapter's tickers and candles look on the wire, enough to build good and bad bodies. */
interface AdapterCase {
  id: 'binance' | 'okx' | 'bybit' | 'mexc'
  create: (opts: SourceOptions) => Source
  tickersPath: string
  candlesPath: string
  markets: string[]
  /** The field carrying the last price in a ticker row. */
  lastField: string
  row: (market: string, last: unknown) => Record<string, unknown>
  tickers: (rows: unknown[]) => unknown
  candles: (rows: unknown[]) => unknown
  /** Valid JSON with HTTP 200 whose envelope is not the documented one. */
  badEnvelopes: unknown[]
}

const TS = 1764000000000

const CASES: AdapterCase[] = [
  {
    id: 'binance',
    create: createBinanceSource,
    tickersPath: '/api/v3/ticker/24hr',
    candlesPath: '/api/v3/klines',
    markets: ['AAAUSDT', 'BBBUSDT', 'CCCUSDT', 'DDDUSDT', 'EEEUSDT', 'FFFUSDT', 'GGGUSDT'],
    lastField: 'lastPrice',
    row: (symbol, last) => ({
      symbol,
      priceChange: '0.1',
      priceChangePercent: '1.000',
      lastPrice: last,
      openPrice: '10',
      highPrice: '11',
      lowPrice: '9',
      volume: '1000',
      quoteVolume: '10000',
      openTime: TS - 86_400_000,
      closeTime: TS,
    }),
    tickers: (rows) => rows,
    candles: (rows) => rows,
    badEnvelopes: [{ code: -1121, msg: 'Invalid symbol.' }, 'maintenance', null],
  },
  {
    id: 'okx',
    create: createOkxSource,
    tickersPath: '/api/v5/market/tickers',
    candlesPath: '/api/v5/market/candles',
    markets: ['AAA-USDT', 'BBB-USDT', 'CCC-USDT', 'DDD-USDT', 'EEE-USDT', 'FFF-USDT', 'GGG-USDT'],
    lastField: 'last',
    row: (instId, last) => ({
      instType: 'SPOT',
      instId,
      last,
      open24h: '10',
      high24h: '11',
      low24h: '9',
      vol24h: '1000',
      volCcy24h: '10000',
      ts: String(TS),
    }),
    tickers: (rows) => ({ code: '0', msg: '', data: rows }),
    candles: (rows) => ({ code: '0', msg: '', data: rows }),
    badEnvelopes: [
      { code: '50001', msg: 'Service temporarily unavailable', data: [] },
      { code: '0', msg: '', data: { list: [] } },
      [],
    ],
  },
  {
    id: 'bybit',
    create: createBybitSource,
    tickersPath: '/v5/market/tickers',
    candlesPath: '/v5/market/kline',
    markets: ['AAAUSDT', 'BBBUSDT', 'CCCUSDT', 'DDDUSDT', 'EEEUSDT', 'FFFUSDT', 'GGGUSDT'],
    lastField: 'lastPrice',
    row: (symbol, last) => ({
      symbol,
      lastPrice: last,
      prevPrice24h: '10',
      price24hPcnt: '0.01',
      highPrice24h: '11',
      lowPrice24h: '9',
      volume24h: '1000',
      turnover24h: '10000',
    }),
    tickers: (rows) => ({ retCode: 0, retMsg: 'OK', result: { category: 'spot', list: rows }, time: TS }),
    candles: (rows) => ({ retCode: 0, retMsg: 'OK', result: { category: 'spot', list: rows }, time: TS }),
    badEnvelopes: [
      { retCode: 10016, retMsg: 'Server error', result: {}, time: TS },
      { retCode: 0, retMsg: 'OK', result: { list: 'none' }, time: TS },
      { list: [] },
    ],
  },
  {
    id: 'mexc',
    create: createMexcSource,
    tickersPath: '/api/v3/ticker/24hr',
    candlesPath: '/api/v3/klines',
    markets: ['AAAUSDT', 'BBBUSDT', 'CCCUSDT', 'DDDUSDT', 'EEEUSDT', 'FFFUSDT', 'GGGUSDT'],
    lastField: 'lastPrice',
    row: (symbol, last) => ({
      symbol,
      priceChange: '0.1',
      priceChangePercent: '0.01',
      prevClosePrice: '10',
      lastPrice: last,
      openPrice: '10',
      highPrice: '11',
      lowPrice: '9',
      volume: '1000',
      quoteVolume: '10000',
      openTime: TS - 86_400_000,
      closeTime: TS,
    }),
    tickers: (rows) => rows,
    candles: (rows) => rows,
    badEnvelopes: [{ code: 700003, msg: 'Timestamp for this request is outside of the recvWindow.' }, 42],
  },
]

const GOOD_CANDLES = [
  [String(TS - 600_000), '10', '11', '9', '10.5', '100', '1050'],
  [String(TS - 300_000), '10.5', '11', '10', '10.2', '120', '1230'],
  [String(TS), '10.2', '10.4', '10', '10.1', '90', '910'],
]

let fake: FakeExchange | undefined
let source: Source | undefined

afterEach(async () => {
  await source?.close()
  await fake?.stop()
  source = undefined
  fake = undefined
})

async function start(
  c: AdapterCase,
  routes: Record<string, FakeRoute>,
  timeoutMs = 2000,
): Promise<{ fake: FakeExchange; source: Source; metrics: Metrics }> {
  const metrics = createMetrics()
  fake = await new FakeExchange(routes).start()
  source = c.create({ baseUrl: fake.url, timeoutMs, metrics })
  return { fake, source, metrics }
}

/** Sum of a counter's values whose labels include `labels`. */
async function counted(
  counter: { get(): Promise<{ values: Array<{ value: number; labels: object }> }> },
  labels: Record<string, string>,
): Promise<number> {
  const { values } = await counter.get()
  return values
    .filter((v) =>
      Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want),
    )
    .reduce((sum, v) => sum + v.value, 0)
}

async function sourceErrorOf(p: Promise<unknown>): Promise<SourceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(SourceError)
  return err as SourceError
}

describe.each(CASES)('$id adapter under faults', (c) => {
  const [a, b] = c.markets as [string, string]

  it('429 with Retry-After → rate_limited with retryAfterMs, counted', async () => {
    const { source, metrics } = await start(c, {
      [c.tickersPath]: { kind: 'status', status: 429, headers: { 'retry-after': '7' } },
    })
    const err = await sourceErrorOf(source.fetchTickers([a]))
    expect(err).toMatchObject({ source: c.id, kind: 'rate_limited', status: 429, retryAfterMs: 7000 })
    expect(await counted(metrics.sourceErrors, { source: c.id, kind: 'rate_limited' })).toBe(1)
    expect(await counted(metrics.sourceRequests, { source: c.id, endpoint: 'tickers' })).toBe(1)
  })

  it('418 (IP ban) with an HTTP-date Retry-After → rate_limited', async () => {
    const until = new Date(Date.now() + 120_000).toUTCString()
    const { source } = await start(c, {
      [c.tickersPath]: { kind: 'status', status: 418, headers: { 'retry-after': until } },
    })
    const err = await sourceErrorOf(source.fetchTickers([a]))
    expect(err.kind).toBe('rate_limited')
    expect(err.retryAfterMs).toBeGreaterThan(100_000)
    expect(err.retryAfterMs).toBeLessThanOrEqual(120_000)
  })

  it('500 → http with the status, counted', async () => {
    const { source, metrics } = await start(c, {
      [c.tickersPath]: { kind: 'status', status: 500, body: '<html>oops</html>' },
    })
    const err = await sourceErrorOf(source.fetchTickers([a]))
    expect(err).toMatchObject({ kind: 'http', status: 500 })
    expect(await counted(metrics.sourceErrors, { source: c.id, kind: 'http' })).toBe(1)
  })

  it('a hanging exchange → timeout after timeoutMs', async () => {
    const { source, metrics } = await start(c, { [c.tickersPath]: { kind: 'hang' } }, 300)
    const t0 = Date.now()
    const err = await sourceErrorOf(source.fetchTickers([a]))
    expect(err.kind).toBe('timeout')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250)
    expect(Date.now() - t0).toBeLessThan(3000)
    expect(await counted(metrics.sourceErrors, { source: c.id, kind: 'timeout' })).toBe(1)
  })

  it('a connection reset → network, and the next call works again', async () => {
    let reset = true
    const { source } = await start(c, {
      [c.tickersPath]: () =>
        reset ? { kind: 'reset' } : { kind: 'json', body: c.tickers([c.row(a, '12.5')]) },
    })
    expect((await sourceErrorOf(source.fetchTickers([a]))).kind).toBe('network')
    reset = false
    const batch = await source.fetchTickers([a])
    expect(batch.ticks.map((t) => [t.market, t.last])).toEqual([[a, 12.5]])
  })

  it('invalid JSON → invalid_json', async () => {
    const { source, metrics } = await start(c, { [c.tickersPath]: { kind: 'raw', body: '{"data": [{"sym' } })
    expect((await sourceErrorOf(source.fetchTickers([a]))).kind).toBe('invalid_json')
    expect(await counted(metrics.sourceErrors, { source: c.id, kind: 'invalid_json' })).toBe(1)
  })

  it('a wrong envelope (error body with HTTP 200, not a list) → schema, counted', async () => {
    const { source, metrics } = await start(c, {
      [c.tickersPath]: { kind: 'json', body: null },
      [c.candlesPath]: { kind: 'json', body: null },
    })
    for (const [i, body] of c.badEnvelopes.entries()) {
      fake!.route(c.tickersPath, { kind: 'json', body })
      const err = await sourceErrorOf(source.fetchTickers([a]))
      expect(err.kind).toBe('schema')
      expect(await counted(metrics.sourceErrors, { source: c.id, kind: 'schema' })).toBe(i + 1)
    }
    fake!.route(c.candlesPath, { kind: 'json', body: c.badEnvelopes[0] })
    expect((await sourceErrorOf(source.fetchCandles(a, '5m', 3))).kind).toBe('schema')
  })

  it('a schema-drifted row (last price field renamed) is dropped and counted; the others are fine', async () => {
    const drifted = c.row(a, '10')
    drifted[`${c.lastField}V2`] = drifted[c.lastField]
    delete drifted[c.lastField]
    const { source, metrics } = await start(c, {
      [c.tickersPath]: { kind: 'json', body: c.tickers([drifted, c.row(b, '20.25')]) },
    })
    const batch = await source.fetchTickers([a, b])
    expect(batch.dropped).toBe(1)
    expect(batch.dropReasons).toHaveLength(1)
    expect(batch.dropReasons[0]).toContain(a)
    expect(batch.dropReasons[0]).toContain(c.lastField)
    expect(batch.ticks.map((t) => [t.market, t.last])).toEqual([[b, 20.25]])
    expect(await counted(metrics.sourceDroppedRows, { source: c.id })).toBe(1)
  })

  it('zero, negative, "abc", absurd (→ Infinity) and wrongly typed prices are dropped, never a tick', async () => {
    const [, , m3, m4, m5, m6, good] = c.markets as [string, string, string, string, string, string, string]
    const rows = [
      c.row(a, '0'),
      c.row(b, '-1.5'),
      c.row(m3, 'abc'),
      c.row(m4, '1e309'),
      c.row(m5, '__INFINITY__'),
      c.row(m6, { value: '10' }),
      c.row(good, '10.5'),
      // An unrequested market's bad row is not ours to count.
      c.row('ZZZ-NOT-ASKED', 'abc'),
    ]
    // A bare JSON number 1e309 parses to Infinity: written raw, since JSON.stringify cannot.
    const body = JSON.stringify(c.tickers(rows)).replace('"__INFINITY__"', '1e309')
    const { source, metrics } = await start(c, { [c.tickersPath]: { kind: 'raw', body } })
    const batch = await source.fetchTickers(c.markets)
    expect(batch.ticks.map((t) => [t.market, t.last])).toEqual([[good, 10.5]])
    expect(batch.dropped).toBe(6)
    expect(batch.dropReasons.length).toBeGreaterThan(0)
    for (const t of batch.ticks) expect(Number.isFinite(t.last) && t.last > 0).toBe(true)
    expect(await counted(metrics.sourceDroppedRows, { source: c.id })).toBe(6)
  })

  it('a bad optional field (zero high, "n/a" volume) nulls that field, keeps the tick', async () => {
    const row = c.row(a, '10.5')
    for (const k of ['highPrice', 'high24h', 'highPrice24h']) if (k in row) row[k] = '0'
    for (const k of ['volume', 'vol24h', 'volume24h']) if (k in row) row[k] = 'n/a'
    const { source } = await start(c, { [c.tickersPath]: { kind: 'json', body: c.tickers([row]) } })
    const batch = await source.fetchTickers([a])
    expect(batch.dropped).toBe(0)
    expect(batch.ticks[0]).toMatchObject({ market: a, last: 10.5, high24h: null, baseVolume: null })
  })

  it('malformed candle rows are dropped; the rest come back oldest first', async () => {
    const rows = [...GOOD_CANDLES, [String(TS - 900_000), 'abc', '11', '9', '10', '1', '1'], ['x']].reverse()
    const { source, metrics } = await start(c, { [c.candlesPath]: { kind: 'json', body: c.candles(rows) } })
    const candles = await source.fetchCandles(a, '5m', 10)
    expect(candles.map((k) => k.ts)).toEqual([TS - 600_000, TS - 300_000, TS])
    expect(candles[2]).toEqual({ ts: TS, open: 10.2, high: 10.4, low: 10, close: 10.1, baseVolume: 90 })
    expect(await counted(metrics.sourceDroppedRows, { source: c.id })).toBe(2)
  })
})

describe('createSource (server/sources/index.ts)', () => {
  it.each(CASES)('$id: built from config — base URL override, request timeout, metrics', async (c) => {
    fake = await new FakeExchange({ [c.tickersPath]: { kind: 'hang' } }).start()
    const metrics = createMetrics()
    const config = configFrom({
      [`PRICEWIRE_SOURCE_URL_${c.id.toUpperCase()}`]: fake.url,
      PRICEWIRE_REQUEST_TIMEOUT_MS: '300',
    })
    source = createSource(c.id, config, metrics)!
    expect(source.id).toBe(c.id)
    expect(source.minPollMs).toBeGreaterThanOrEqual(1000)
    const t0 = Date.now()
    expect((await sourceErrorOf(source.fetchTickers([c.markets[0]!]))).kind).toBe('timeout')
    expect(Date.now() - t0).toBeLessThan(3000)
    expect(fake.requestsTo(c.tickersPath)).toHaveLength(1)
    expect(await counted(metrics.sourceRequests, { source: c.id, endpoint: 'tickers' })).toBe(1)
  })

  it('builds every exchange, and nothing for coingecko or simulated', async () => {
    // No request is sent: undici pools connect lazily, so nothing leaves loopback.
    const config = configFrom()
    for (const id of ['binance', 'okx', 'bybit', 'mexc', 'gate', 'kucoin', 'coinbase', 'kraken'] as const) {
      const s = createSource(id, config)
      expect(s?.id).toBe(id)
      await s?.close()
    }
    expect(createSource('coingecko', config)).toBeUndefined()
    expect(createSource('simulated', config)).toBeUndefined()
  })
})
