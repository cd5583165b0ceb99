import { describe, expect, it } from 'vitest'
import { krakenAltname, krakenV2Symbol } from '../../server/sources/streams/kraken.js'
import { waitFor } from '../helpers/quotes.js'
import { sleep } from './ingest-exchanges.js'
import { describeStreamContract, harness } from './streams-contract.js'

/**
 * Kraken spot WebSocket v2 (docs.kraken.com, "Spot WebSocket v2": ticker, ping, heartbeat):
 * {"method":"subscribe","params":{"channel":"ticker","symbol":[…]}} on /v2, BTC/USD pair names,
 * {"method":"ping"} answered by pong, {"channel":"heartbeat"} while nothing trades.
 */

const chunks = <T>(items: readonly T[], size: number) =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size))

/** Altname → v2 pair in the test registry's names (A000USD → A000/USD). */
const pair = (altname: string) => `${altname.slice(0, -3)}/USD`

describeStreamContract({
  id: 'kraken',
  perMessage: 50,
  connectGapMs: 4000,
  subscribeMessages: (markets) =>
    chunks(markets.map(pair), 50).map((symbol, i) =>
      JSON.stringify({ method: 'subscribe', params: { channel: 'ticker', symbol }, req_id: i + 1 }),
    ),
  isPing: (m) => m.includes('"method":"ping"'),
  badPriceFrame: (market) => ({
    channel: 'ticker',
    type: 'update',
    data: [{ symbol: pair(market), last: 0, volume: 1, vwap: 1, timestamp: new Date().toISOString() }],
  }),
})

describe('kraken stream rules', () => {
  it('maps REST altnames to v2 pair names and back', () => {
    expect(krakenV2Symbol('XBTUSD')).toBe('BTC/USD')
    expect(krakenV2Symbol('POLUSD')).toBe('POL/USD')
    expect(krakenV2Symbol('USDTUSD')).toBe('USDT/USD')
    expect(krakenV2Symbol('ETHUSDT')).toBe('ETH/USDT')
    expect(krakenV2Symbol('XDGUSD')).toBe('DOGE/USD')
    expect(krakenV2Symbol('bad name')).toBeUndefined()
    expect(krakenAltname('BTC/USD')).toBe('XBTUSD')
    expect(krakenAltname('USDC/USD')).toBe('USDCUSD')
  })

  it('connects to /v2, pings with {"method":"ping"} answered by pong, without reconnecting', async () => {
    const h = await harness('kraken', { tuning: { pingIntervalMs: 250, pongTimeoutMs: 200 } })
    await waitFor(() => h.ws.open().length === 1)
    expect(h.ws.connections[0]!.path).toBe('/v2')
    await waitFor(() => h.ws.connections[0]!.received.filter((m) => m.includes('"ping"')).length >= 4)
    expect(h.ws.connections).toHaveLength(1)
    expect(await h.metric('streamReconnects', { source: 'kraken' })).toBe(0)
  })

  it('heartbeats keep a quiet market’s stream healthy (REST stays at reconciliation)', async () => {
    const h = await harness('kraken')
    await waitFor(() => h.ws.open().length === 1)
    const beat = setInterval(() => h.ws.send({ channel: 'heartbeat' }), 150)
    try {
      await waitFor(() => h.ingest.sources()[0]!.streaming)
      await sleep(300)
      const from = Date.now()
      await sleep(1_500)
      expect(h.ingest.sources()[0]!.streaming).toBe(true)
      expect(h.tickerRequests(from)).toBeLessThanOrEqual(3)
    } finally {
      clearInterval(beat)
    }
    await waitFor(() => !h.ingest.sources()[0]!.streaming, 3_000)
  })
})
