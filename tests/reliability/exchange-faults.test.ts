import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Quote } from '../../shared/quote.js'
import type { FakeReply } from '../helpers/fake-exchange.js'
import { type PushApp, startPushApp } from '../helpers/push-app.js'
import { waitFor } from '../helpers/quotes.js'
import {
  assertValidQuotes,
  type Harness,
  metricValue,
  standardVenues,
  startHarness,
  TEST_ENV,
  TEST_REGISTRY,
  TICKER_PATH,
  USDT_USD,
} from '../integration/ingest-exchanges.js'
import { printFigure, sleep, watchProcessFaults } from './figures.js'
import { LiveClient } from './live-client.js'

/**
 * Scenario 3: every fault in turn on one of pol's three sources (Binance, the one with most volume),
 * through the real ingest over real HTTP fakes, published through the engine to a real WebSocket
 * client. Every published quote (bus and stream) is checked: valid, finite, positive, and within the
 * outlier threshold of the truth. Then all sources down: stale within the freshness limit, and back.
 */

const TRUTH = 0.25 * USDT_USD
const OUTLIER = Number(TEST_ENV.PRICEWIRE_OUTLIER_PCT) / 100
const STALE_MS = Number(TEST_ENV.PRICEWIRE_STALE_MS)

let push: PushApp
let h: Harness
let client: LiveClient
const streamed: Quote[] = []
const watcher = watchProcessFaults()

beforeAll(async () => {
  push = await startPushApp({ vars: { PRICEWIRE_STALE_MS: String(STALE_MS) } })
  // A registry with only the harness's assets: the push app must know pol and talus by id.
  h = await startHarness({ venues: standardVenues(), registry: TEST_REGISTRY, engine: push.engine })
  client = await LiveClient.open(push.wsUrl)
  client.onQuote = (q) => streamed.push(q)
  client.subscribe(['pol', 'talus'])
  await waitFor(() => h.quotesOf('pol').length >= 2 && streamed.length > 0, 10_000)
})
afterAll(async () => {
  client?.ws.terminate()
  await h?.close()
  await push?.close()
  watcher.dispose()
})

const binanceRequests = () => h.fakes.binance!.requestsTo(TICKER_PATH.binance!)
const binanceBreaker = () => h.ingest.sources().find((s) => s.source === 'binance')!.breaker
const polWithBinance = (since: number) =>
  h.batches
    .filter((b) => b.publishedAt > since)
    .flatMap((b) => b.quotes)
    .find((q) => q.asset === 'pol' && q.sources.some((s) => s.source === 'binance'))

/** A Binance ticker body whose rows have drifted from the schema (renamed and retyped fields). */
const drifted: FakeReply = {
  kind: 'json',
  body: [
    { symbol: 'POLUSDT', last_price: '0.25', lastPrice: { value: 0.25 }, volume: 'lots', closeTime: 'now' },
  ],
}

type Phase = {
  name: string
  reply: FakeReply | ((n: number) => FakeReply | undefined)
  opensBreaker: boolean
}
const PHASES: Phase[] = [
  {
    name: '429 Retry-After',
    reply: (n) => (n === 1 ? { kind: 'status', status: 429, headers: { 'retry-after': '1' } } : undefined),
    opensBreaker: false,
  },
  { name: 'HTTP 500', reply: { kind: 'status', status: 500, body: '{"msg":"oops"}' }, opensBreaker: true },
  { name: 'timeout', reply: { kind: 'hang' }, opensBreaker: true },
  { name: 'connection reset', reply: { kind: 'reset' }, opensBreaker: true },
  {
    name: 'invalid JSON',
    reply: { kind: 'raw', body: '[{"symbol":"POLUSDT","lastPrice":' },
    opensBreaker: true,
  },
  { name: 'schema drift', reply: drifted, opensBreaker: false },
]

describe('scenario 3: exchange faults on one of three sources', { timeout: 120_000 }, () => {
  it('every fault in turn: the price stays within the outlier threshold, never NaN/0/negative, the breaker opens and recovers', async () => {
    const binance = h.venues.binance!
    const pol = binance.markets.get('POLUSDT')!
    const outcomes: string[] = []
    let breakerCycles = 0
    for (const phase of PHASES) {
      let n = 0
      const before = binanceRequests().length
      binance.tickerFault = () => {
        n++
        return typeof phase.reply === 'function' ? phase.reply(n) : phase.reply
      }
      if (phase.opensBreaker) {
        await waitFor(() => binanceBreaker() === 'open', 10_000)
        binance.tickerFault = undefined
        await waitFor(() => binanceBreaker() === 'closed', 10_000)
        breakerCycles++
      } else {
        await waitFor(() => binanceRequests().length >= before + 4, 10_000)
        binance.tickerFault = undefined
      }
      const since = Date.now()
      await waitFor(() => polWithBinance(since), 10_000)
      outcomes.push(`${phase.name}: ${binanceRequests().length - before} requests`)
    }
    // A 429 is not a failure of the exchange: honoured, the breaker stays closed.
    expect(await metricValue(h.metrics, 'sourceErrors', { source: 'binance', kind: 'rate_limited' })).toBe(1)
    expect(await metricValue(h.metrics, 'sourceDroppedRows', { source: 'binance' })).toBeGreaterThan(0)

    // Wrong prices: ×10, then 0, then negative, then back.
    for (const [name, price] of [
      ['price ×10', 2.5],
      ['price 0', 0],
      ['price negative', -0.25],
    ] as const) {
      const rejectedBefore = await metricValue(h.metrics, 'outliersRejected', { source: 'binance' })
      const droppedBefore = await metricValue(h.metrics, 'sourceDroppedRows', { source: 'binance' })
      pol.price = price
      await waitFor(
        async () =>
          (await metricValue(h.metrics, 'outliersRejected', { source: 'binance' })) >= rejectedBefore + 3 ||
          (await metricValue(h.metrics, 'sourceDroppedRows', { source: 'binance' })) >= droppedBefore + 3,
        10_000,
      )
      outcomes.push(name)
    }
    pol.price = 0.25
    const since = Date.now()
    await waitFor(() => polWithBinance(since), 10_000)
    await sleep(300)

    const published = h.batches.flatMap((b) => b.quotes)
    assertValidQuotes(published)
    assertValidQuotes(streamed)
    const pols = [...published, ...streamed].filter((q) => q.asset === 'pol')
    const maxDeviation = Math.max(...pols.map((q) => Math.abs(q.price - TRUTH) / TRUTH))
    printFigure(
      'exchange-faults',
      `${PHASES.length + 3} faults on Binance (${outcomes.join('; ')}): ${published.length} published + ` +
        `${streamed.length} streamed quotes checked, 0 invalid, pol max deviation ${(maxDeviation * 100).toFixed(2)}% ` +
        `(threshold ${OUTLIER * 100}%); breaker opened and recovered ${breakerCycles}×`,
    )
    expect(maxDeviation).toBeLessThanOrEqual(OUTLIER)
    expect(breakerCycles).toBe(4)
    expect(client.badPrices).toEqual([])
    expect(client.seqWentBack).toBe(0)
    expect(client.isOpen).toBe(true)
    expect(watcher.faults).toEqual([])
  })

  it('all sources down: quotes turn stale within the freshness limit and recover by themselves', async () => {
    let down = false
    for (const v of Object.values(h.venues))
      v.tickerFault = () => (down ? { kind: 'status', status: 503 } : undefined)
    const start = h.batches.length
    down = true
    const downAt = Date.now()
    const stale = await waitFor(
      () => h.batches.slice(start).find((b) => b.quotes.some((q) => q.asset === 'pol' && q.stale)),
      STALE_MS + 5_000,
    )
    const staleAfter = stale.publishedAt - downAt
    await waitFor(() => streamed.some((q) => q.asset === 'pol' && q.stale), 5_000)
    const rest = (await (await fetch(`${push.httpUrl}/v1/quotes?assets=pol`)).json()) as { data: Quote[] }
    expect(rest.data[0]!.stale).toBe(true)
    down = false
    const upAt = Date.now()
    const back = await waitFor(
      () =>
        h.batches
          .filter((b) => b.publishedAt > upAt)
          .find((b) => b.quotes.some((q) => q.asset === 'pol' && !q.stale)),
      10_000,
    )
    const recoverMs = back.publishedAt - upAt
    await waitFor(() => streamed.at(-1)?.stale === false, 5_000)
    assertValidQuotes(h.batches.flatMap((b) => b.quotes))
    printFigure(
      'exchange-faults',
      `all sources down: pol stale ${staleAfter} ms after (freshness limit ${STALE_MS} ms, one cycle + one coalescing gap allowed); ` +
        `recovered ${recoverMs} ms after the exchanges came back, without intervention`,
    )
    expect(staleAfter).toBeLessThanOrEqual(STALE_MS + 100 + 250 + 400)
    expect(recoverMs).toBeLessThanOrEqual(5_000)
    expect(client.badPrices).toEqual([])
    expect(watcher.faults).toEqual([])
  })
})
