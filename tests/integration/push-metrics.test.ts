import type { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Quote } from '../../shared/quote.js'
import type { PushApp } from '../helpers/push-app.js'
import { pushTestKit } from '../helpers/push-kit.js'
import { makeQuote, waitFor } from '../helpers/quotes.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import type { StreamClient } from '../helpers/ws-client.js'

/** The stream's Prometheus metrics, read as a scraper reads them: the text of /metrics. */

let redis: TestRedis
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})

const kit = pushTestKit()
const server = kit.server
const client = (s: PushApp) => kit.client(s)

/** Every sample of the exposition text, by name with labels as written (`name{a="b"}`). */
async function scrape(s: PushApp): Promise<Map<string, number>> {
  const res = await fetch(`${s.httpUrl}/metrics`)
  expect(res.status).toBe(200)
  return parseExposition(await res.text())
}
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    out.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return out
}
const get = (m: Map<string, number>, key: string) => m.get(key) ?? 0

/** What the clients received: frames and bytes, as the server must have counted them. */
const received = (clients: StreamClient[]) => ({
  messages: clients.reduce((n, c) => n + c.raw.length, 0),
  bytes: clients.reduce((n, c) => n + c.raw.reduce((b, f) => b + f.length, 0), 0),
})

describe('stream metrics in /metrics', () => {
  it('counts connections, subscriptions, messages and bytes exactly as clients receive them', async () => {
    const s = await server()
    let m = await scrape(s)
    expect(get(m, 'pricewire_ws_connections')).toBe(0)
    expect(get(m, 'pricewire_ws_subscriptions')).toBe(0)
    expect(get(m, 'pricewire_ws_messages_sent_total')).toBe(0)

    await s.publish([makeQuote('pol', { price: 0.25 }), makeQuote('btc', { price: 90_000 })])
    await waitFor(() => s.engine.latest('btc'))
    const a = await client(s)
    const b = await client(s)
    await a.subscribe(['pol', 'btc'])
    await b.subscribe(['pol'])
    m = await scrape(s)
    expect(get(m, 'pricewire_ws_connections')).toBe(2)
    expect(get(m, 'pricewire_ws_subscriptions')).toBe(3)
    expect(get(m, 'pricewire_ws_messages_sent_total')).toBe(2)
    expect(get(m, 'pricewire_ws_bytes_sent_total')).toBe(received([a, b]).bytes)

    for (let seq = 2; seq <= 4; seq++) {
      await s.publish([makeQuote('pol', { seq }), makeQuote('btc', { seq, price: 90_000 })])
    }
    await waitFor(() => a.raw.length === 4 && b.raw.length === 4)
    b.send({ op: 'nope' })
    await b.next('error')
    m = await scrape(s)
    expect(get(m, 'pricewire_ws_messages_sent_total')).toBe(received([a, b]).messages)
    expect(get(m, 'pricewire_ws_bytes_sent_total')).toBe(received([a, b]).bytes)
    expect(get(m, 'pricewire_ws_error_frames_total{code="unknown_op"}')).toBe(1)
    // The memory engine's hub measures bus lag: one observation per batch (four published).
    expect(get(m, 'pricewire_bus_lag_seconds_count')).toBe(4)
    expect(get(m, 'pricewire_bus_lag_seconds_sum')).toBeGreaterThanOrEqual(0)
    expect(get(m, 'pricewire_bus_lag_seconds_bucket{le="+Inf"}')).toBe(4)

    a.send({ op: 'unsubscribe', assets: ['btc'] })
    a.send({ op: 'ping' })
    await a.next('pong')
    expect(get(await scrape(s), 'pricewire_ws_subscriptions')).toBe(2)
    await b.close()
    await waitFor(async () => get(await scrape(s), 'pricewire_ws_connections') === 1)
    m = await scrape(s)
    expect(get(m, 'pricewire_ws_subscriptions')).toBe(1)
    expect(get(m, 'pricewire_ws_conflated_updates_total')).toBe(0)
  })

  it('measures bus lag once per batch over Redis, from the publisher’s timestamp', async () => {
    const s = await server({ vars: { REDIS_URL: redis.url, PRICEWIRE_REDIS_PREFIX: 'metrics-lag:' } })
    const c = await client(s)
    await c.subscribe(['eth'])
    const publishedAt = Date.now() - 300 // a batch that spent 300 ms on its way
    await s.engine.publish({
      origin: 'elsewhere',
      publishedAt,
      quotes: [makeQuote('eth', { seq: 1 })],
      history: [],
    })
    await c.next('quotes')
    await s.publish([makeQuote('eth', { seq: 2 })])
    await waitFor(() => c.frames.filter((f) => f.type === 'quotes').length === 2)
    const m = await scrape(s)
    expect(get(m, 'pricewire_bus_lag_seconds_count')).toBe(2)
    expect(get(m, 'pricewire_bus_lag_seconds_sum')).toBeGreaterThanOrEqual(0.3)
    // The 300 ms one is above the 0.25 s bucket.
    expect(get(m, 'pricewire_bus_lag_seconds_bucket{le="0.25"}')).toBeLessThanOrEqual(1)
    expect(get(m, 'pricewire_bus_lag_seconds_bucket{le="+Inf"}')).toBe(2)
  })

  it('counts conflated updates and slow-consumer closes', async () => {
    const assets = ['btc', 'eth', 'sol', 'pol', 'talus']
    const s = await server({
      // One parked quote per asset (≈ 90 KB here) is over the hard limit: the close follows the grace period.
      limits: { queueSoftBytes: 16 * 1024, queueHardBytes: 48 * 1024, slowGraceMs: 300 },
    })
    const c = await client(s)
    await c.subscribe(assets)
    ;(c.ws as unknown as { _socket: Socket })._socket.pause()
    const sources = Array.from({ length: 200 }, (_, i) => ({
      source: 'binance' as const,
      market: `M${i}USDT`,
      price: 1,
      volume24h: 1,
      ts: 1_700_000_000_000,
    }))
    const batch = (seq: number): Quote[] => assets.map((a) => makeQuote(a, { seq, sources }))
    let seq = 1
    const text = async () => parseExposition(await s.ctx.metrics.registry.metrics())
    await waitFor(async () => {
      await s.publish(batch(seq++))
      await new Promise((r) => setImmediate(r))
      return get(await text(), 'pricewire_ws_slow_consumer_closes_total') === 1
    }, 15_000)
    const m = await text()
    // Every batch after the socket fell behind replaced one parked quote per asset (the first parked set
    // replaced nothing), until the close.
    expect(get(m, 'pricewire_ws_conflated_updates_total')).toBeGreaterThan(0)
    expect(get(m, 'pricewire_ws_conflated_updates_total') % assets.length).toBe(0)
    expect(get(m, 'pricewire_ws_connections')).toBe(0)
    expect(get(m, 'pricewire_ws_subscriptions')).toBe(0)
  })
})
