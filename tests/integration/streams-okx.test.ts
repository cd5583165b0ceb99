import { describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/quotes.js'
import { sleep } from './ingest-exchanges.js'
import { describeStreamContract, harness } from './streams-contract.js'

/**
 * OKX v5 public WebSocket (okx.com/docs-v5, "WebSocket" overview and "Tickers channel"):
 * {"op":"subscribe","args":[{"channel":"tickers","instId":…}]} on /ws/v5/public, the text "ping"
 * keep-alive answered "pong", and the 64008 service-upgrade notice.
 */

const chunks = <T>(items: readonly T[], size: number) =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size))

describeStreamContract({
  id: 'okx',
  perMessage: 100,
  connectGapMs: 350,
  subscribeMessages: (markets) =>
    chunks(markets, 100).map((part) =>
      JSON.stringify({ op: 'subscribe', args: part.map((instId) => ({ channel: 'tickers', instId })) }),
    ),
  isPing: (m) => m === 'ping',
  badPriceFrame: (market) => ({
    arg: { channel: 'tickers', instId: market },
    data: [{ instType: 'SPOT', instId: market, last: '-1', open24h: '0.25', ts: String(Date.now()) }],
  }),
})

describe('okx stream rules', () => {
  it('connects to /ws/v5/public and sends the text ping, answered by pong, without reconnecting', async () => {
    // Pings are paced like every OKX message (at least 350 ms apart).
    const h = await harness('okx', { tuning: { pingIntervalMs: 400, pongTimeoutMs: 300 } })
    await waitFor(() => h.ws.open().length === 1)
    expect(h.ws.connections[0]!.path).toBe('/ws/v5/public')
    await waitFor(() => h.ws.connections[0]!.received.filter((m) => m === 'ping').length >= 4)
    expect(h.ws.connections).toHaveLength(1)
    expect(await h.metric('streamReconnects', { source: 'okx' })).toBe(0)
  })

  it('gives a connection up when its pings go unanswered, and reconnects', async () => {
    const h = await harness('okx', { tuning: { pingIntervalMs: 400, pongTimeoutMs: 200 } })
    await waitFor(() => h.ws.open().length === 1)
    h.ws.answering = false
    await waitFor(() => h.ws.connections.length >= 2, 5_000)
    expect(await h.metric('streamReconnects', { source: 'okx', reason: 'no_pong' })).toBeGreaterThanOrEqual(1)
    h.ws.answering = true
    await waitFor(() => h.ws.open().length === 1 && h.ws.subscriptions(h.ws.open()[0]!).length === 1)
    h.push('POL-USDT', 0.3)
    await waitFor(() => h.quotesOf('pol').at(-1)?.price === 0.3)
  })

  it('replaces the connection on the 64008 service-upgrade notice', async () => {
    const h = await harness('okx')
    const pump = h.pump('POL-USDT', 50, (n) => 0.25 + n * 1e-5)
    await waitFor(() => h.ingest.sources()[0]!.streaming)
    h.ws.send({
      event: 'notice',
      code: '64008',
      msg: 'The connection will soon be closed for a service upgrade.',
    })
    await waitFor(() => h.ws.connections.length === 2 && h.ws.connections[0]!.closedAt !== undefined, 3_000)
    expect(await h.metric('streamReconnects', { source: 'okx', reason: 'server_notice' })).toBe(1)
    pump.stop()
    await sleep(400)
    expect(h.quotesOf('pol').at(-1)!.price).toBeCloseTo(pump.last(), 10)
  })
})
