import { describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/quotes.js'
import { describeStreamContract, harness } from './streams-contract.js'
import { marketOf } from './streams-harness.js'

/**
 * Bybit v5 public spot stream (bybit-exchange.github.io/docs/v5/ws/connect, "Ticker"):
 * {"op":"subscribe","args":["tickers.<symbol>"]} on /v5/public/spot with at most 10 args per
 * request for spot, {"op":"ping"} heartbeats, snapshot pushes.
 */

const chunks = <T>(items: readonly T[], size: number) =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size))

const isPing = (m: string) => m === JSON.stringify({ op: 'ping' })

describeStreamContract({
  id: 'bybit',
  perMessage: 10,
  connectGapMs: 600,
  subscribeMessages: (markets) =>
    chunks(markets, 10).map((part) =>
      JSON.stringify({ op: 'subscribe', args: part.map((m) => `tickers.${m}`) }),
    ),
  isPing,
  badPriceFrame: (market) => ({
    topic: `tickers.${market}`,
    ts: Date.now(),
    type: 'snapshot',
    cs: 1,
    data: { symbol: market, lastPrice: 'abc', prevPrice24h: '0.25', volume24h: '1', turnover24h: '1' },
  }),
})

describe('bybit stream rules', () => {
  it('connects to /v5/public/spot and sends {"op":"ping"} heartbeats, answered, without reconnecting', async () => {
    const h = await harness('bybit', { tuning: { pingIntervalMs: 100, pongTimeoutMs: 300 } })
    await waitFor(() => h.ws.open().length === 1)
    expect(h.ws.connections[0]!.path).toBe('/v5/public/spot')
    await waitFor(() => h.ws.connections[0]!.received.filter(isPing).length >= 5)
    expect(h.ws.connections).toHaveLength(1)
    expect(await h.metric('streamReconnects', { source: 'bybit' })).toBe(0)
  })

  it('gives a connection up when its pings go unanswered, and reconnects', async () => {
    const h = await harness('bybit', { tuning: { pingIntervalMs: 150, pongTimeoutMs: 200 } })
    await waitFor(() => h.ws.open().length === 1)
    h.ws.answering = false
    await waitFor(() => h.ws.connections.length >= 2, 5_000)
    expect(await h.metric('streamReconnects', { source: 'bybit', reason: 'no_pong' })).toBeGreaterThanOrEqual(
      1,
    )
  })

  it('spreads markets over connections within the per-connection limit (200 topics)', async () => {
    const bases = Array.from({ length: 205 }, (_, i) => `B${String(i).padStart(3, '0')}`)
    const h = await harness('bybit', { bases, env: { PRICEWIRE_POLL_MS: '1000' } })
    await waitFor(() => h.ws.open().length === 2, 8_000)
    const subscribed = (i: number) => h.ws.subscriptions(h.ws.connections[i]!)
    await waitFor(() => subscribed(0).length === 200 && subscribed(1).length === 5)
    const all = [...subscribed(0), ...subscribed(1)]
    expect(new Set(all)).toEqual(new Set(bases.map((b) => marketOf('bybit', b))))
    // Connections of one source open at least 600 ms apart (connection rate limit).
    expect(h.ws.connections[1]!.openedAt - h.ws.connections[0]!.openedAt).toBeGreaterThanOrEqual(550)
    expect(h.ws.connections[0]!.received.filter((m) => !isPing(m))).toHaveLength(20)
  })
})
