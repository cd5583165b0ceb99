import { afterEach, describe, expect, it } from 'vitest'
import type { StreamTuning } from '../../server/ingest/ingest.js'
import { waitFor } from '../helpers/quotes.js'
import { assertValidQuotes, sleep } from './ingest-exchanges.js'
import { marketOf, type StreamedId, type StreamHarness, startStreamHarness } from './streams-harness.js'

/**
 * What every exchange stream must do through the real ingest, run once per exchange against its
 * fake (tests/integration/streams-<exchange>.test.ts add the exchange's own rules).
 */
export interface StreamSpec {
  id: StreamedId
  /** The exact subscribe messages for these markets (sorted), as the exchange documents them. */
  subscribeMessages(markets: readonly string[]): string[]
  /** How many markets one subscribe message may carry. */
  perMessage: number
  /** Whether a client message is an application ping (left out of subscribe assertions). */
  isPing(message: string): boolean
  /** A ticker push for `market` whose price is not a valid price (one malformed row). */
  badPriceFrame(market: string): object
  /** Least time between reconnect attempts (the exchange's connection rate limit). */
  connectGapMs: number
  /** The subscribe case: this many markets give this many messages on one connection (default: 2 full messages and a part). */
  subscribeCase?: { markets: number; messages: number }
}

let current: StreamHarness | undefined
export async function harness(
  id: StreamedId,
  opts: { bases?: string[]; env?: Record<string, string>; tuning?: StreamTuning } = {},
): Promise<StreamHarness> {
  current = await startStreamHarness({ id, ...opts })
  return current
}

const streaming = (h: StreamHarness) => h.ingest.sources()[0]?.streaming === true
const lastPrice = (h: StreamHarness, asset = 'pol') => h.quotesOf(asset).at(-1)?.price

export function describeStreamContract(spec: StreamSpec): void {
  const { id } = spec
  const POL = marketOf(id, 'POL')

  afterEach(async () => {
    await current?.close()
    current = undefined
  })

  describe(`${id} stream through the ingest`, () => {
    it('subscribes with the exact documented messages, chunked per the per-message limit', async () => {
      const { markets: count, messages } = spec.subscribeCase ?? {
        markets: spec.perMessage * 2 + 3,
        messages: 3,
      }
      const bases = Array.from({ length: count }, (_, i) => `A${String(i).padStart(3, '0')}`)
      const h = await harness(id, { bases, env: { PRICEWIRE_POLL_MS: '1000' } })
      const markets = bases.map((b) => marketOf(id, b)).sort()
      const expected = spec.subscribeMessages(markets)
      expect(expected).toHaveLength(messages)
      await waitFor(
        () => h.ws.connections[0]?.received.filter((m) => !spec.isPing(m)).length === messages,
        15_000,
      )
      expect(h.ws.connections).toHaveLength(1)
      expect(h.ws.connections[0]!.received.filter((m) => !spec.isPing(m))).toEqual(expected)
      expect(new Set(h.ws.subscriptions(h.ws.connections[0]!))).toEqual(new Set(markets))
    })

    it('turns pushes into published quotes through validation, aggregation and the coalesced publish', async () => {
      const h = await harness(id)
      await waitFor(() => h.ws.open().length === 1 && h.ws.subscriptions(h.ws.open()[0]!).includes(POL))
      await waitFor(() => lastPrice(h) === 0.25)
      const pushedAt = Date.now()
      h.push(POL, 0.3125)
      await waitFor(() => lastPrice(h) === 0.3125, 2_000, 2)
      expect(Date.now() - pushedAt).toBeLessThan(500)
      const quote = h.quotesOf('pol').at(-1)!
      expect(quote.sources).toEqual([expect.objectContaining({ source: id, market: POL, price: 0.3125 })])
      expect(quote.stale).toBe(false)
      await waitFor(() => streaming(h))
      expect(await h.metric('streamTicks', { source: id })).toBeGreaterThanOrEqual(1)
      expect(await h.metric('streamMessages', { source: id })).toBeGreaterThanOrEqual(2)
      expect(await h.metric('streamConnections', { source: id })).toBe(1)
      expect(await h.metric('streamHealthy', { source: id })).toBe(1)
      assertValidQuotes(h.quotesOf('pol'))
    })

    it('slows REST polling to reconciliation while healthy, and resumes full rate at once when silent', async () => {
      // Silence deadline 800 ms: a loaded test box must not flap a healthy stream.
      const h = await harness(id, { env: { PRICEWIRE_STREAM_SILENCE_MS: '800' } })
      const pump = h.pump(POL, 100, (n) => 0.25 + n * 1e-4)
      await waitFor(() => streaming(h))
      await sleep(300)
      const healthyFrom = Date.now()
      await sleep(2_000)
      // Reconciliation every 1 s (full rate would be every 100 ms: ~20 requests).
      const healthyCount = h.tickerRequests(healthyFrom)
      expect(healthyCount).toBeLessThanOrEqual(6)
      expect(healthyCount).toBeGreaterThanOrEqual(1)

      pump.stop()
      const silentFrom = Date.now()
      await waitFor(() => !streaming(h), 3_000, 5)
      const unhealthyAt = Date.now()
      // Silence deadline 800 ms: noticed within it (plus timer slack).
      expect(unhealthyAt - silentFrom).toBeLessThan(2_500)
      // Full rate at once: a poll right away, not at the next reconciliation.
      await waitFor(() => h.tickerRequests(unhealthyAt - 5) >= 1, 1_000, 5)
      const fallbackFrom = Date.now()
      await sleep(1_000)
      expect(h.tickerRequests(fallbackFrom)).toBeGreaterThanOrEqual(4)
      expect(await h.metric('streamHealthy', { source: id })).toBe(0)
      expect(h.lines.some((l) => String(l.msg).includes('REST polling at full rate'))).toBe(true)

      // Delivering again: slowed again.
      h.pump(POL, 100, (n) => 0.26 + n * 1e-4)
      await waitFor(() => streaming(h))
      await sleep(300)
      const againFrom = Date.now()
      await sleep(1_500)
      expect(h.tickerRequests(againFrom)).toBeLessThanOrEqual(5)
    })

    it('reconnects with backoff after a server-side close and subscribes again', async () => {
      const h = await harness(id)
      await waitFor(() => h.ws.open().length === 1 && h.ws.subscriptions(h.ws.open()[0]!).includes(POL))
      const first = h.ws.connections[0]!
      const subscribe = first.received.filter((m) => !spec.isPing(m))
      h.ws.closeAll(1001, 'going away')
      const closedAt = Date.now()
      await waitFor(() => h.ws.connections.length === 2 && h.ws.open().length === 1, 8_000)
      const second = h.ws.connections[1]!
      expect(second.openedAt - closedAt).toBeGreaterThanOrEqual(spec.connectGapMs - 50)
      await waitFor(() => second.received.filter((m) => !spec.isPing(m)).length === subscribe.length)
      expect(second.received.filter((m) => !spec.isPing(m))).toEqual(subscribe)
      h.push(POL, 0.2875)
      await waitFor(() => lastPrice(h) === 0.2875)
      expect(await h.metric('streamReconnects', { source: id, reason: 'closed' })).toBe(1)
      expect(await h.metric('streamConnections', { source: id })).toBe(1)
      expect(h.lines.some((l) => String(l.msg).includes('reconnecting'))).toBe(true)
    })

    it('drops and counts malformed frames and rows, never publishing them', async () => {
      const h = await harness(id)
      await waitFor(() => h.ws.open().length === 1 && h.ws.subscriptions(h.ws.open()[0]!).includes(POL))
      h.push(POL, 0.3)
      await waitFor(() => lastPrice(h) === 0.3)
      h.ws.send('{not json')
      h.ws.send({ unexpected: 'shape' })
      h.ws.send(spec.badPriceFrame(POL))
      await waitFor(async () => (await h.metric('streamDropped', { source: id })) >= 2)
      await waitFor(async () => (await h.metric('sourceDroppedRows', { source: id })) >= 1)
      expect(await h.metric('streamDropped', { source: id, reason: 'invalid_json' })).toBe(1)
      expect(await h.metric('streamDropped', { source: id, reason: 'schema' })).toBe(1)
      // Still connected and delivering: a bad frame is dropped, not a reason to reconnect.
      h.push(POL, 0.31)
      await waitFor(() => lastPrice(h) === 0.31)
      expect(h.ws.connections).toHaveLength(1)
      const quotes = h.quotesOf('pol')
      assertValidQuotes(quotes)
      expect(quotes.every((q) => [0.25, 0.3, 0.31].includes(q.price))).toBe(true)
    })

    it('streams only while this node leads: the stream closes when the ingest stops', async () => {
      const h = await harness(id)
      const pump = h.pump(POL, 100, (n) => 0.25 + n * 1e-4)
      await waitFor(() => streaming(h))
      await h.ingest.stop()
      pump.stop()
      await waitFor(() => h.ws.open().length === 0, 3_000)
      expect(await h.metric('streamConnections', { source: id })).toBe(0)
      await sleep(300)
      expect(h.ws.connections).toHaveLength(1)
    })
  })
}
