import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { RedisEngine } from '../../server/engine/redis.js'
import { ServerFrame } from '../../shared/protocol.js'
import type { PushApp } from '../helpers/push-app.js'
import { pushTestKit } from '../helpers/push-kit.js'
import { makeQuote, waitFor } from '../helpers/quotes.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import { StreamClient } from '../helpers/ws-client.js'

let redis: TestRedis
let prefix = 0
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})

const kit = pushTestKit()
const server = (vars: Record<string, string> = {}) => kit.server({ vars })
const client = (s: PushApp) => kit.client(s)

const engines: [string, () => Record<string, string>][] = [
  ['memory', () => ({})],
  ['redis', () => ({ REDIS_URL: redis.url, PRICEWIRE_REDIS_PREFIX: `push${++prefix}:` })],
]

describe.each(engines)('stream over the %s engine', (_kind, vars) => {
  it('answers a subscribe with a snapshot of the current quotes, then pushes updates', async () => {
    const s = await server(vars())
    await s.publish([makeQuote('pol', { price: 0.25, seq: 1 }), makeQuote('btc', { price: 90_000, seq: 1 })])
    await waitFor(() => s.engine.latest('btc'))
    const c = await client(s)
    const snapshot = await c.subscribe(['pol', 'talus'])
    expect(ServerFrame.parse(snapshot)).toEqual(snapshot)
    expect(snapshot.quotes.map((q) => [q.asset, q.price])).toEqual([['pol', 0.25]])
    expect(snapshot.history).toBeUndefined()

    await s.publish([makeQuote('pol', { price: 0.26, seq: 2 }), makeQuote('btc', { price: 91_000, seq: 2 })])
    const update = await c.next('quotes')
    expect(update.quotes.map((q) => [q.asset, q.price, q.seq])).toEqual([['pol', 0.26, 2]])

    await s.publish([makeQuote('talus', { price: 0.01, seq: 1, symbol: 'US' })])
    expect((await c.next('quotes')).quotes.map((q) => q.asset)).toEqual(['talus'])
    // btc was never subscribed: nothing else arrived.
    expect(await c.unreadAfter(100)).toEqual([])
    expect(await s.metric('pricewire_ws_connections')).toBe(1)
    expect(await s.metric('pricewire_ws_subscriptions')).toBe(2)
  })

  it('sends one frame per batch with every subscribed quote, the same bytes to clients watching the same', async () => {
    const s = await server(vars())
    const [a, b, other] = [await client(s), await client(s), await client(s)]
    await a.subscribe(['pol', 'eth'])
    await b.subscribe(['eth', 'pol'])
    await other.subscribe(['eth'])
    await s.publish([
      makeQuote('btc', { seq: 5 }),
      makeQuote('eth', { price: 3000, seq: 5 }),
      makeQuote('pol', { price: 0.3, seq: 5 }),
    ])
    const [fa, fb, fo] = await Promise.all([a.next('quotes'), b.next('quotes'), other.next('quotes')])
    expect(fa.quotes.map((q) => q.asset)).toEqual(['eth', 'pol'])
    expect(a.raw.at(-1)!.equals(b.raw.at(-1)!)).toBe(true)
    expect(fb).toEqual(fa)
    expect(fo.quotes.map((q) => q.asset)).toEqual(['eth'])
    // The fragment of eth is byte-identical inside both frames.
    expect(a.raw.at(-1)!.toString()).toContain(other.raw.at(-1)!.toString().slice(27, -2))
    for (const frame of [fa, fo]) expect(ServerFrame.safeParse(frame).success).toBe(true)
  })

  it('snapshots 24 h history on request and pushes closed 5-minute points to subscribers', async () => {
    const s = await server(vars())
    const now = Date.now()
    const t = (min: number) => now - min * 60_000
    await s.engine.appendHistory('pol', '5m', [
      [t(10), 0.2],
      [t(5), 0.21],
    ])
    await s.engine.appendHistory('pol', '1h', [[t(120), 0.19]])
    await s.publish([makeQuote('pol', { price: 0.22, seq: 3 })])
    await waitFor(() => s.engine.latest('pol'))
    const c = await client(s)
    const snap = await c.subscribe(['pol', 'eth'], '24h')
    expect(snap.quotes.map((q) => q.asset)).toEqual(['pol'])
    expect(snap.history).toEqual({
      pol: [
        [t(10), 0.2],
        [t(5), 0.21],
      ],
      eth: [],
    })
    const week = await c.subscribe(['pol'], '7d')
    expect(week.quotes).toEqual([])
    expect(week.history).toEqual({ pol: [[t(120), 0.19]] })

    await s.publish(
      [makeQuote('pol', { price: 0.23, seq: 4 })],
      [
        { asset: 'pol', resolution: '5m', point: [t(0), 0.23] },
        { asset: 'pol', resolution: '1h', point: [t(0), 0.23] },
        { asset: 'btc', resolution: '5m', point: [t(0), 90_000] },
      ],
    )
    expect((await c.next('quotes')).quotes[0]!.price).toBe(0.23)
    expect(await c.next('history')).toEqual({ type: 'history', asset: 'pol', point: [t(0), 0.23] })
    expect(await c.unreadAfter(100)).toEqual([])
  })

  it('unsubscribes, answers ping with pong, and re-subscribing sends a fresh snapshot', async () => {
    const s = await server(vars())
    await s.publish([makeQuote('eth', { price: 3000, seq: 1 })])
    await waitFor(() => s.engine.latest('eth'))
    const c = await client(s)
    await c.subscribe(['eth'])
    c.send({ op: 'unsubscribe', assets: ['eth', 'btc', 'nope'] })
    c.send({ op: 'ping' })
    expect(await c.next()).toEqual({ type: 'pong' })
    await s.publish([makeQuote('eth', { price: 3100, seq: 2 })])
    expect(await c.unreadAfter(150)).toEqual([])
    expect(await s.metric('pricewire_ws_subscriptions')).toBe(0)
    const again = await c.subscribe(['ETH'])
    expect(again.quotes.map((q) => [q.asset, q.price])).toEqual([['eth', 3100]])
  })
})

describe('stream subscribe rules', () => {
  it('names unknown assets in one error frame and subscribes the known ones; symbols resolve to ids', async () => {
    const s = await server()
    await s.publish([makeQuote('talus', { symbol: 'US', price: 0.01 })])
    await waitFor(() => s.engine.latest('talus'))
    const c = await client(s)
    c.send({ op: 'subscribe', assets: ['doge', 'US', 'pol', 'xyz', 'doge'] })
    expect(await c.next()).toEqual({
      type: 'error',
      code: 'unknown_assets',
      message: 'unknown assets: doge, xyz',
      assets: ['doge', 'xyz'],
    })
    const snap = await c.next('snapshot')
    expect(snap.quotes.map((q) => q.asset)).toEqual(['talus'])
    c.send({ op: 'subscribe', assets: ['nothing-here'] })
    expect((await c.next()).type).toBe('error')
    // A subscribe of nothing new is not answered with a snapshot.
    c.send({ op: 'subscribe', assets: ['pol'] })
    expect(await c.unreadAfter(100)).toEqual([])
    expect(await s.metric('pricewire_ws_error_frames_total', { code: 'unknown_assets' })).toBe(2)
    expect(c.isOpen).toBe(true)
  })

  it('marks a snapshot quote stale when it is older than the freshness limit', async () => {
    const s = await server({ PRICEWIRE_STALE_MS: '1000' })
    await s.publish([makeQuote('sol', { updatedAt: Date.now() - 5_000 })])
    await waitFor(() => s.engine.latest('sol'))
    const c = await client(s)
    const snap = await c.subscribe(['sol'])
    expect(snap.quotes[0]!.stale).toBe(true)
  })

  it('answers a plain GET of the stream with 426 and other upgrade paths with 404', async () => {
    const s = await server()
    const res = await fetch(`${s.httpUrl}/v1/stream`)
    expect(res.status).toBe(426)
    expect(await res.json()).toMatchObject({ error: { code: 'upgrade_required' } })
    const refused = await StreamClient.refused(`${s.wsUrl.replace('/v1/stream', '/v1/other')}`)
    expect(refused).toEqual({
      status: 404,
      body: { error: { code: 'not_found', message: expect.stringContaining('/v1/stream') } },
    })
    expect(await s.metric('pricewire_ws_rejected_total', { reason: 'not_found' })).toBe(1)
    // The stream still works after that.
    const c = await client(s)
    expect(c.ws.readyState).toBe(WebSocket.OPEN)
  })

  it('never pushes a quote older than the one the node has (a late batch of a former leader)', async () => {
    const keys = `late${++prefix}:`
    const s = await server({ REDIS_URL: redis.url, PRICEWIRE_REDIS_PREFIX: keys })
    const former = new RedisEngine({ url: redis.url, prefix: keys, logger: pino({ level: 'silent' }) })
    await former.start()
    try {
      await waitFor(() => former.readiness().ready)
      const c = await client(s)
      await c.subscribe(['pol', 'eth'])
      await s.publish([makeQuote('pol', { seq: 5, price: 0.3 })])
      expect((await c.next('quotes')).quotes.map((q) => q.seq)).toEqual([5])
      // An older pol next to a new eth: only eth goes out, and the mirror keeps pol 5.
      await former.publish({
        origin: 'former-leader',
        publishedAt: Date.now(),
        quotes: [makeQuote('pol', { seq: 3, price: 0.1 }), makeQuote('eth', { seq: 1 })],
        history: [],
      })
      expect((await c.next('quotes')).quotes.map((q) => [q.asset, q.seq])).toEqual([['eth', 1]])
      expect(s.engine.latest('pol')?.seq).toBe(5)
      await s.publish([makeQuote('pol', { seq: 6 })])
      expect((await c.next('quotes')).quotes.map((q) => q.seq)).toEqual([6])
    } finally {
      await former.close()
    }
  })
})
