import { describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/quotes.js'
import { sleep } from './ingest-exchanges.js'
import { describeStreamContract, harness } from './streams-contract.js'

/**
 * Coinbase Exchange WebSocket feed (docs.cdp.coinbase.com/exchange/websocket-feed):
 * {"type":"subscribe","product_ids":[…],"channels":["ticker","heartbeat"]}, ticker messages with
 * rolling 24 h stats, a heartbeat per product per second, errors as {"type":"error"}.
 */

describeStreamContract({
  id: 'coinbase',
  perMessage: 100,
  connectGapMs: 250,
  subscribeCase: { markets: 3, messages: 1 },
  subscribeMessages: (markets) => [
    JSON.stringify({ type: 'subscribe', product_ids: markets, channels: ['ticker', 'heartbeat'] }),
  ],
  isPing: () => false,
  badPriceFrame: (market) => ({
    type: 'ticker',
    product_id: market,
    price: 'Infinity',
    open_24h: '0.25',
    time: new Date().toISOString(),
  }),
})

describe('coinbase stream rules', () => {
  it('connects to the feed root and keeps a quiet product healthy on heartbeats', async () => {
    const h = await harness('coinbase')
    await waitFor(() => h.ws.open().length === 1)
    expect(h.ws.connections[0]!.path).toBe('/')
    const beat = setInterval(
      () =>
        h.ws.send({
          type: 'heartbeat',
          sequence: 1,
          last_trade_id: 1,
          product_id: 'POL-USD',
          time: new Date().toISOString(),
        }),
      150,
    )
    try {
      await waitFor(() => h.ingest.sources()[0]!.streaming)
      await sleep(1_000)
      expect(h.ingest.sources()[0]!.streaming).toBe(true)
    } finally {
      clearInterval(beat)
    }
  })

  it('an error message (refused subscription) leaves the source on full-rate polling', async () => {
    const h = await harness('coinbase')
    await waitFor(() => h.ws.open().length === 1)
    h.ws.send({ type: 'error', message: 'Failed to subscribe', reason: 'POL-USD is not a valid product' })
    await sleep(300)
    expect(h.ingest.sources()[0]!.streaming).toBe(false)
    expect(h.lines.some((l) => String(l.msg).includes('subscription refused'))).toBe(true)
  })
})
