import { describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/quotes.js'
import { sleep } from './ingest-exchanges.js'
import { describeStreamContract, harness } from './streams-contract.js'

/**
 * Binance spot market streams (developers.binance.com, "WebSocket Streams"): <symbol>@ticker on the
 * combined endpoint /stream, SUBSCRIBE requests, the server's ping frames, the 24 h connection
 * lifetime and the serverShutdown event.
 */

const chunks = (names: readonly string[], size: number) =>
  Array.from({ length: Math.ceil(names.length / size) }, (_, i) => names.slice(i * size, (i + 1) * size))

describeStreamContract({
  id: 'binance',
  perMessage: 100,
  connectGapMs: 1000,
  subscribeMessages: (markets) =>
    chunks(
      markets.map((m) => `${m.toLowerCase()}@ticker`),
      100,
    ).map((params, i) => JSON.stringify({ method: 'SUBSCRIBE', params, id: i + 1 })),
  isPing: () => false,
  badPriceFrame: (market) => ({
    stream: `${market.toLowerCase()}@ticker`,
    data: { e: '24hrTicker', E: Date.now(), s: market, c: 'NaN', o: '0.25', v: '1', q: '1' },
  }),
})

describe('binance stream rules', () => {
  it('connects to the combined stream path and answers the server ping frames with their payload', async () => {
    const h = await harness('binance')
    await waitFor(() => h.ws.open().length === 1)
    expect(h.ws.connections[0]!.path).toBe('/stream')
    h.ws.ping('ping-1')
    await waitFor(() => h.ws.connections[0]!.pongs.length === 1)
    expect(h.ws.connections[0]!.pongs).toEqual(['ping-1'])
  })

  it('replaces a connection before its lifetime ends, make-before-break: prices keep flowing', async () => {
    const h = await harness('binance', {
      tuning: { lifetimeMs: 1_500 },
      // A loaded test box must not flap the stream: this test asserts it never fell back.
      env: { PRICEWIRE_STREAM_SILENCE_MS: '1500' },
    })
    const pump = h.pump('POLUSDT', 50, (n) => 0.25 + n * 1e-5)
    await waitFor(() => h.ingest.sources()[0]!.streaming)
    await waitFor(() => h.ws.connections.length >= 2 && h.ws.connections[0]!.closedAt !== undefined, 6_000)
    const [first, second] = h.ws.connections
    // The replacement was open before the old one closed, and subscribed the same way.
    expect(second!.openedAt).toBeLessThanOrEqual(first!.closedAt!)
    expect(second!.received).toEqual(first!.received)
    expect(first!.closedAt! - first!.openedAt).toBeGreaterThanOrEqual(1_400)
    expect(
      await h.metric('streamReconnects', { source: 'binance', reason: 'lifetime' }),
    ).toBeGreaterThanOrEqual(1)
    // Healthy throughout: polling never fell back to full rate.
    expect(h.lines.some((l) => String(l.msg).includes('REST polling at full rate'))).toBe(false)
    pump.stop()
    await sleep(400)
    expect(h.quotesOf('pol').at(-1)!.price).toBeCloseTo(pump.last(), 10)
  })

  it('opens a new connection at once on a serverShutdown event', async () => {
    const h = await harness('binance')
    const pump = h.pump('POLUSDT', 50, (n) => 0.25 + n * 1e-5)
    await waitFor(() => h.ingest.sources()[0]!.streaming)
    const noticeAt = Date.now()
    h.ws.send({ e: 'serverShutdown', E: noticeAt })
    await waitFor(() => h.ws.connections.length === 2 && h.ws.connections[0]!.closedAt !== undefined, 3_000)
    expect(h.ws.connections[1]!.openedAt - noticeAt).toBeLessThan(500)
    expect(await h.metric('streamReconnects', { source: 'binance', reason: 'server_notice' })).toBe(1)
    expect(h.lines.some((l) => String(l.msg).includes('serverShutdown'))).toBe(true)
    pump.stop()
    await sleep(400)
    expect(h.quotesOf('pol').at(-1)!.price).toBeCloseTo(pump.last(), 10)
  })

  it('a refused subscription leaves the source on full-rate polling', async () => {
    const h = await harness('binance')
    await waitFor(() => h.ws.open().length === 1)
    h.ws.send({ code: 2, msg: 'Invalid request: unknown symbol' })
    await sleep(300)
    expect(h.ingest.sources()[0]!.streaming).toBe(false)
    const from = Date.now()
    await sleep(600)
    expect(h.tickerRequests(from)).toBeGreaterThanOrEqual(3)
  })

  it('asks again on a fresh connection after a refusal, and streams once the exchange accepts', async () => {
    const h = await harness('binance')
    await waitFor(() => h.ws.open().length === 1)
    h.ws.send({ code: 2, msg: 'Too many requests' }, h.ws.connections[0])
    await waitFor(() => !h.ingest.sources()[0]!.streaming && h.ws.connections.length === 2, 3_000)
    // The retry subscribed the same way; its prices make the stream healthy again.
    await waitFor(() => h.ws.connections[1]!.received.length === h.ws.connections[0]!.received.length)
    expect(h.ws.connections[1]!.received).toEqual(h.ws.connections[0]!.received)
    const pump = h.pump('POLUSDT', 50, (n) => 0.25 + n * 1e-5)
    await waitFor(() => h.ingest.sources()[0]!.streaming, 3_000)
    await waitFor(() => h.ws.connections[0]!.closedAt !== undefined)
    pump.stop()
  })

  it('asks ever more slowly while every subscription is refused', async () => {
    const h = await harness('binance')
    const refuseEach = setInterval(() => {
      for (const c of h.ws.open()) if (c.received.length > 0) h.ws.send({ code: 2, msg: 'Invalid symbol' }, c)
    }, 10)
    try {
      await sleep(2_500)
    } finally {
      clearInterval(refuseEach)
    }
    const opened = h.ws.connections.map((c) => c.openedAt)
    const gaps = opened.slice(1).map((t, i) => t - opened[i]!)
    // Backoff 50 ms doubling per refusal (jittered to half-full): a handful of tries, further apart each time.
    expect(opened.length).toBeGreaterThanOrEqual(4)
    expect(opened.length).toBeLessThanOrEqual(10)
    expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]!)
    expect(h.ingest.sources()[0]!.streaming).toBe(false)
    const warnings = h.lines.filter((l) => String(l.msg).includes('subscription refused') && l.level === 40)
    expect(warnings).toHaveLength(1)
  })
})
