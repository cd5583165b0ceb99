import { afterEach, describe, expect, it } from 'vitest'
import type { FakeReply } from '../helpers/fake-exchange.js'
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

/** Fault injection at scheduler level: pollMs 100, staleMs 1000, request timeout 300, breaker 3 failures / 400 ms. */

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const tickerRequests = (id: 'binance' | 'bybit' | 'kraken' | 'mexc' | 'gate') =>
  h!.fakes[id]!.requestsTo(TICKER_PATH[id]!)

describe('ingest faults', () => {
  it('honours Retry-After on 429: no request before it expires, other sources unaffected', async () => {
    const venues = standardVenues()
    let n = 0
    venues.bybit.tickerFault = () =>
      ++n === 3 ? { kind: 'status', status: 429, headers: { 'retry-after': '1' }, body: '{}' } : undefined
    h = await startHarness({ venues, registry: TEST_REGISTRY })
    await waitFor(() => tickerRequests('bybit').length >= 4, 5000)
    const bybit = tickerRequests('bybit')
    const limited = bybit[2]!.at
    expect(bybit[3]!.at - limited).toBeGreaterThanOrEqual(1000)
    const binanceMeanwhile = tickerRequests('binance').filter((r) => r.at > limited && r.at < bybit[3]!.at)
    expect(binanceMeanwhile.length).toBeGreaterThanOrEqual(6)
    expect(await metricValue(h.metrics, 'sourceErrors', { source: 'bybit', kind: 'rate_limited' })).toBe(1)
    expect(h.ingest.sources().find((s) => s.source === 'bybit')!.breaker).toBe('closed')
  })

  const faults: [string, FakeReply, string][] = [
    ['HTTP 500', { kind: 'status', status: 500, body: '{"msg":"oops"}' }, 'http'],
    ['a timeout', { kind: 'hang' }, 'timeout'],
    ['a connection reset', { kind: 'reset' }, 'network'],
    ['invalid JSON', { kind: 'raw', body: '{"retCode":0,"result":' }, 'invalid_json'],
  ]

  it.each(faults)(
    '%s opens the breaker after 3 failures; it recovers via a half-open probe',
    async (_name, reply, kind) => {
      const venues = standardVenues()
      let broken = false
      venues.bybit.tickerFault = () => (broken ? reply : undefined)
      h = await startHarness({ venues, registry: TEST_REGISTRY })
      const bybitStatus = () => h!.ingest.sources().find((s) => s.source === 'bybit')!.breaker
      const before = tickerRequests('bybit').length
      broken = true
      await waitFor(() => bybitStatus() === 'open', 5000)
      expect(tickerRequests('bybit').length - before).toBe(3)
      expect(await metricValue(h.metrics, 'sourceBreakerOpen', { source: 'bybit' })).toBe(1)
      expect(await metricValue(h.metrics, 'sourceErrors', { source: 'bybit', kind })).toBe(3)
      // Open: no request during the cool-down, while the other sources go on.
      const openCount = tickerRequests('bybit').length
      const binanceBefore = tickerRequests('binance').length
      await sleep(250)
      expect(tickerRequests('bybit').length).toBe(openCount)
      expect(tickerRequests('binance').length).toBeGreaterThan(binanceBefore + 1)
      // Repaired: the probe closes the breaker and Bybit is back in the quotes.
      broken = false
      await waitFor(() => bybitStatus() === 'closed', 5000)
      const after = tickerRequests('bybit')
      expect(after[openCount]!.at - after[openCount - 1]!.at).toBeGreaterThanOrEqual(400)
      expect(await metricValue(h.metrics, 'sourceBreakerOpen', { source: 'bybit' })).toBe(0)
      const since = Date.now()
      const q = await waitFor(() =>
        h!.batches
          .filter((b) => b.publishedAt > since)
          .flatMap((b) => b.quotes)
          .find((q) => q.asset === 'talus' && q.sources.some((s) => s.source === 'bybit')),
      )
      expect(q.stale).toBe(false)
      assertValidQuotes(h.batches.flatMap((b) => b.quotes))
    },
  )

  it('a probe that fails re-opens the breaker for another cool-down', async () => {
    const venues = standardVenues()
    venues.gate.tickerFault = () => ({ kind: 'status', status: 503 })
    h = await startHarness({ venues, registry: TEST_REGISTRY })
    await waitFor(() => tickerRequests('gate').length >= 5, 5000)
    const gate = tickerRequests('gate')
    // 3 failures, then one probe per cool-down (400 ms), never more.
    for (let i = 3; i < gate.length; i++) expect(gate[i]!.at - gate[i - 1]!.at).toBeGreaterThanOrEqual(400)
    // Talus goes on from Bybit and MEXC.
    const talus = h.engine.latest('talus')!
    expect(talus.stale).toBe(false)
    expect(talus.sources.map((s) => s.source)).toEqual(['bybit', 'mexc'])
  })

  it('price ×10, then 0, on one of three sources: the published price stays within the outlier threshold', async () => {
    const venues = standardVenues()
    h = await startHarness({ venues, registry: TEST_REGISTRY })
    const truth = 0.25 * USDT_USD
    const binancePol = venues.binance.markets.get('POLUSDT')!
    binancePol.price = 2.5
    await waitFor(
      async () => (await metricValue(h!.metrics, 'outliersRejected', { source: 'binance' })) >= 5,
      5000,
    )
    binancePol.price = 0
    await waitFor(
      async () => (await metricValue(h!.metrics, 'sourceDroppedRows', { source: 'binance' })) >= 3,
      5000,
    )
    await sleep(1200) // the last good Binance tick ages out: pol runs on Bybit and Kraken alone
    binancePol.price = 0.25
    const since = Date.now()
    await waitFor(() =>
      h!.batches.some(
        (b) =>
          b.publishedAt > since &&
          b.quotes.some((q) => q.asset === 'pol' && q.sources.some((s) => s.source === 'binance')),
      ),
    )
    const pols = h.quotesOf('pol')
    // Polled every 100 ms, published at most pushMaxPerSec (4) times a second per asset.
    expect(pols.length).toBeGreaterThan(8)
    for (let i = 1; i < pols.length; i++)
      expect(pols[i]!.updatedAt - pols[i - 1]!.updatedAt).toBeGreaterThanOrEqual(249)
    assertValidQuotes(h.batches.flatMap((b) => b.quotes))
    for (const q of pols) {
      expect(Math.abs(q.price - truth) / truth).toBeLessThanOrEqual(0.05)
      expect(q.stale).toBe(false)
      for (const s of q.sources) expect(Math.abs(s.price - truth) / truth).toBeLessThanOrEqual(0.05)
      expect(q.sources.map((s) => s.source)).toEqual(expect.arrayContaining(['bybit', 'kraken']))
    }
    // The talus quotes, on other markets of the same exchanges, never noticed.
    for (const q of h.quotesOf('talus')) expect(q.sources).toHaveLength(3)
    const warned = h.lines.filter((l) => String(l.msg).includes('rejected as an outlier'))
    expect(warned).toHaveLength(1)
    expect(h.lines.some((l) => String(l.msg).includes('dropped') && l.source === 'binance')).toBe(true)
  })

  it('all sources down: stale within staleMs (last price kept), then recovers by itself', async () => {
    const venues = standardVenues()
    let down = false
    for (const v of Object.values(venues))
      v.tickerFault = () => (down ? { kind: 'status', status: 503 } : undefined)
    h = await startHarness({ venues, registry: TEST_REGISTRY })
    await waitFor(() => h!.quotesOf('pol').length >= 3)
    const lastGood = h.engine.latest('pol')!
    down = true
    const downAt = Date.now()
    const stale = await waitFor(() => h!.quotesOf('pol').find((q) => q.stale), 5000)
    const staleBatch = h.batches.find((b) => b.quotes.includes(stale))!
    // Ticks age out after staleMs (1000); then at most one cycle (100) and one coalescing gap (250), plus slack.
    expect(staleBatch.publishedAt - downAt).toBeLessThanOrEqual(1000 + 100 + 250 + 150)
    expect(staleBatch.publishedAt - downAt).toBeGreaterThanOrEqual(800)
    expect(stale.price).toBe(
      h
        .quotesOf('pol')
        .filter((q) => !q.stale)
        .at(-1)!.price,
    )
    expect(Math.abs(stale.price - lastGood.price) / lastGood.price).toBeLessThan(0.01)
    expect(h.engine.latest('pol')!.stale).toBe(true)
    // Stale is published once, not every cycle.
    await sleep(500)
    expect(h.quotesOf('pol').filter((q) => q.stale)).toHaveLength(1)
    down = false
    const back = await waitFor(
      () =>
        h!
          .quotesOf('pol')
          .slice(h!.quotesOf('pol').indexOf(stale))
          .find((q) => !q.stale && q.sources.length === 3),
      5000,
    )
    // Sources come back one by one: every quote after the stale one is fresh again.
    const after = h.quotesOf('pol').slice(h.quotesOf('pol').indexOf(stale) + 1)
    expect(after.length).toBeGreaterThan(0)
    for (const q of after) expect(q.stale).toBe(false)
    expect(back.sources).toHaveLength(3)
    const seqs = h.quotesOf('pol').map((q) => q.seq)
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!)
    assertValidQuotes(h.batches.flatMap((b) => b.quotes))
  })
})
