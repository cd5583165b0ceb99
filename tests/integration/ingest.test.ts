import { afterEach, describe, expect, it } from 'vitest'
import { Quote } from '../../shared/quote.js'
import { waitFor } from '../helpers/quotes.js'
import {
  assertValidQuotes,
  type Harness,
  metricValue,
  sleep,
  standardVenues,
  startHarness,
  TEST_REGISTRY,
  TICKER_PATH,
  USDT_USD,
} from './ingest-exchanges.js'

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

describe('ingest against fake exchanges', () => {
  it('converts backfilled candles at the live stablecoin rate even when that market answers after the first cycle', async () => {
    h = await startHarness({ venues: standardVenues(), registry: TEST_REGISTRY, start: false })
    // Slower than the first cycle waits (50 ms here), within the request timeout (300 ms).
    h.fakes.kraken!.delay(TICKER_PATH.kraken!, 150)
    await h.ingest.start()
    const [talus] = await h.engine.getQuotes(['talus'])
    expect(talus!.open24h!).toBeCloseTo(0.008 * USDT_USD, 12)
    expect(talus!.change24h!).toBeCloseTo((0.0101 / 0.008 - 1) * 100, 6)
  })

  it('publishes correct quotes for pol and talus: price, change24h from backfilled candles, volume, sources', async () => {
    const venues = standardVenues()
    h = await startHarness({ venues, registry: TEST_REGISTRY, options: { marketListRefreshMs: 300 } })
    expect(h.ingest.isLeader()).toBe(true)
    const [pol, talus] = await h.engine.getQuotes(['pol', 'talus'])

    // pol: Binance (0.25 USDT) holds most of the USD volume, so it is the weighted median.
    expect(Quote.parse(pol)).toEqual(pol)
    expect(pol!.price).toBeCloseTo(0.25 * USDT_USD, 10)
    expect(pol!.sources.map((s) => [s.source, s.market])).toEqual([
      ['binance', 'POLUSDT'],
      ['bybit', 'POLUSDT'],
      ['kraken', 'POLUSD'],
    ])
    const polVolume = 10_000_000 * 0.25 * USDT_USD + 1_000_000 * 0.2504 * USDT_USD + 1_000_000 * 0.2497
    expect(pol!.volume24h).toBeCloseTo(polVolume, 2)
    // Candles 24 h ago closed at 0.20 USDT (±0.1 % ripple): +25 % against the aggregated price then.
    expect(pol!.open24h!).toBeCloseTo(0.2 * USDT_USD, 3)
    expect(pol!.change24h!).toBeCloseTo((pol!.price / pol!.open24h! - 1) * 100, 8)
    expect(pol!.change24h!).toBeGreaterThan(24.5)
    expect(pol!.change24h!).toBeLessThan(25.5)
    expect(pol!.high24h!).toBeCloseTo(0.2504 * 1.02 * USDT_USD, 8)
    expect(pol!.low24h!).toBeCloseTo(0.2497 * 0.98, 8)
    expect(pol!.marketCap!).toBeCloseTo(pol!.price * 10_000_000_000, 0)
    expect(pol!.volatility24h).not.toBeNull()
    expect(pol!).toMatchObject({ stale: false, approximate: false, simulated: false, currency: 'USD' })

    // talus: Bybit holds most of the volume; Binance does not list USUSDT.
    expect(Quote.parse(talus)).toEqual(talus)
    expect(talus!.price).toBeCloseTo(0.0101 * USDT_USD, 12)
    expect(talus!.sources.map((s) => s.source)).toEqual(['bybit', 'mexc', 'gate'])
    expect(talus!.open24h!).toBeCloseTo(0.008 * USDT_USD, 12)
    expect(talus!.change24h!).toBeCloseTo((0.0101 / 0.008 - 1) * 100, 6)
    expect(talus!.symbol).toBe('US')
    expect(talus!.marketCap).toBeNull()

    // History: backfilled from one exchange (the first that lists the market), then kept current.
    expect((await h.engine.readHistory('pol', '5m', 0)).length).toBeGreaterThanOrEqual(288)
    expect((await h.engine.readHistory('pol', '1h', 0)).length).toBeGreaterThanOrEqual(168)
    expect((await h.engine.readHistory('talus', '5m', 0)).length).toBeGreaterThanOrEqual(288)
    expect(h.fakes.binance!.requestsTo('/api/v3/klines').map((r) => r.query.get('symbol'))).toEqual([
      'POLUSDT',
      'POLUSDT',
    ])
    expect(h.fakes.bybit!.requestsTo('/v5/market/kline').map((r) => r.query.get('symbol'))).toEqual([
      'USUSDT',
      'USUSDT',
    ])
    expect(h.fakes.mexc!.requestsTo('/api/v3/klines')).toHaveLength(0)

    // Quotes keep coming, every one valid, seq monotonic per asset.
    await waitFor(() => h!.quotesOf('pol').length >= 5, 5000)
    assertValidQuotes(h.batches.flatMap((b) => b.quotes))
    const seqs = h.quotesOf('pol').map((q) => q.seq)
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!)
    for (const b of h.batches) {
      expect(b.origin).toBe('node-a')
      expect(Array.isArray(b.history)).toBe(true)
    }
  })

  it('sends ONE ticker request per source per cycle, with every market, and skips unlisted ones with one warning', async () => {
    h = await startHarness({
      venues: standardVenues(),
      registry: TEST_REGISTRY,
      options: { marketListRefreshMs: 300 },
    })
    await sleep(1200)
    for (const id of ['binance', 'bybit', 'kraken', 'mexc', 'gate'] as const) {
      const reqs = h.fakes[id]!.requestsTo(TICKER_PATH[id]!)
      expect(reqs.length).toBeGreaterThanOrEqual(6)
      expect(reqs.length).toBeLessThanOrEqual(16)
      for (let i = 1; i < reqs.length; i++) expect(reqs[i]!.at - reqs[i - 1]!.at).toBeGreaterThanOrEqual(80)
    }
    // Kraken: pol and the USDT rate in one request.
    const pairs = h.fakes.kraken!.requestsTo('/0/public/Ticker')[0]!.query.get('pair')!
    expect(pairs.split(',').sort()).toEqual(['POLUSD', 'USDTUSD'])
    // Binance is asked for POLUSDT only: USUSDT is not listed there.
    for (const r of h.fakes.binance!.requestsTo('/api/v3/ticker/24hr')) {
      expect(JSON.parse(r.query.get('symbols')!)).toEqual(['POLUSDT'])
    }
    // The market list was reloaded several times, the warning logged once.
    expect(h.fakes.binance!.requestsTo('/api/v3/exchangeInfo').length).toBeGreaterThanOrEqual(3)
    const warnings = h.lines.filter((l) => String(l.msg).includes('market USUSDT is not listed'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({ source: 'binance', market: 'USUSDT', level: 40 })
    expect(await metricValue(h.metrics, 'sourceLastSuccess', { source: 'gate' })).toBeGreaterThan(0)
  })

  it('flags quotes approximate when no live USDT rate is known', async () => {
    const venues = standardVenues()
    venues.kraken.markets.delete('USDTUSD')
    h = await startHarness({ venues, registry: TEST_REGISTRY })
    const [talus] = await h.engine.getQuotes(['talus'])
    expect(talus!.approximate).toBe(true)
    expect(talus!.price).toBe(0.0101)
  })

  it('continues seq from the engine’s latest quote at start', async () => {
    const first = await startHarness({ venues: standardVenues(), registry: TEST_REGISTRY })
    await waitFor(() => first.quotesOf('pol').length >= 3)
    const engine = first.engine
    await first.close()
    const lastSeq = engine.latest('pol')!.seq
    h = await startHarness({ venues: standardVenues(), registry: TEST_REGISTRY, engine, nodeId: 'node-b' })
    const q = await waitFor(() => h!.quotesOf('pol')[0])
    expect(q.seq).toBe(lastSeq + 1)
  })
})
