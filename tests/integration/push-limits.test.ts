import { describe, expect, it } from 'vitest'
import type { PushLimits } from '../../server/push/limits.js'
import { pushTestKit } from '../helpers/push-kit.js'
import { makeQuote, waitFor } from '../helpers/quotes.js'
import { StreamClient } from '../helpers/ws-client.js'

const kit = pushTestKit()
const server = (vars: Record<string, string> = {}, limits?: Partial<PushLimits>) =>
  kit.server({ vars, limits })
const client = kit.client

describe('stream: malformed frames', () => {
  it('answers each bad frame with a precise error frame and keeps the connection', async () => {
    const s = await server()
    const c = await client(s)
    const cases: [unknown, string, RegExp][] = [
      ['{"op":"subscribe",', 'invalid_json', /not valid JSON/],
      [{ op: 'dance' }, 'unknown_op', /unknown op "dance"/],
      [{ op: 'subscribe', assets: [1, 2] }, 'invalid_message', /^assets\.0: /],
      [{ op: 'subscribe', assets: [] }, 'invalid_message', /^assets: /],
      [{ op: 'subscribe', assets: ['pol'], history: '1y' }, 'invalid_message', /^history: /],
      [{ assets: ['pol'] }, 'invalid_message', /^op: /],
      ['[1,2,3]', 'invalid_message', /^message: |^op: /],
      ['"subscribe"', 'invalid_message', /./],
      [
        { op: 'subscribe', assets: ['x'.repeat(5000)] },
        'frame_too_large',
        /at most 4096 bytes; this one has 50\d\d/,
      ],
    ]
    for (const [frame, code, message] of cases) {
      c.send(frame)
      const error = await c.next()
      expect(error, JSON.stringify(frame).slice(0, 60)).toMatchObject({ type: 'error', code })
      expect((error as { message: string }).message).toMatch(message)
    }
    c.ws.send(Buffer.from('{"op":"ping"}'), { binary: true })
    expect(await c.next()).toMatchObject({ type: 'error', code: 'invalid_message', message: /binary/ })
    // Still open and still served.
    expect((await c.subscribe(['pol'])).type).toBe('snapshot')
    c.send({ op: 'ping' })
    expect(await c.next()).toEqual({ type: 'pong' })
    expect(await s.metric('pricewire_ws_error_frames_total', { code: 'invalid_message' })).toBe(7)
    expect(await s.metric('pricewire_ws_error_frames_total', { code: 'frame_too_large' })).toBe(1)
  })

  it('closes 1008 when bad frames keep coming', async () => {
    const s = await server({}, { maxBadFrames: 5, badFrameWindowMs: 10_000 })
    const c = await client(s)
    for (let i = 0; i < 6; i++) c.send('not json')
    expect(await c.closed).toEqual({ code: 1008, reason: 'too many invalid frames' })
    expect(c.frames.filter((f) => f.type === 'error')).toHaveLength(6)
  })

  it('rate-limits a flood of valid messages and closes it 1008', async () => {
    const s = await server({}, { messagesPerSec: 10, messageBurst: 10, maxBadFrames: 5 })
    const c = await client(s)
    for (let i = 0; i < 40; i++) c.send({ op: 'ping' })
    expect((await c.closed).code).toBe(1008)
    expect(c.frames.filter((f) => f.type === 'pong')).toHaveLength(10)
    expect(c.frames.find((f) => f.type === 'error')).toMatchObject({ code: 'rate_limited' })
    // A polite client is never limited.
    const polite = await client(s)
    for (let i = 0; i < 5; i++) {
      polite.send({ op: 'ping' })
      await polite.next('pong')
    }
    expect(polite.isOpen).toBe(true)
  })

  it('closes 1009 on a frame beyond the hard cap (maxPayload + 64 KiB)', async () => {
    const s = await server()
    const c = await client(s)
    c.send('x'.repeat(4096 + 64 * 1024 + 1))
    expect((await c.closed).code).toBe(1009)
  })
})

describe('stream: connection limits', () => {
  it('refuses subscriptions beyond the per-connection limit, naming them', async () => {
    const s = await server({ PRICEWIRE_WS_MAX_SUBSCRIPTIONS: '3' })
    const c = await client(s)
    await c.subscribe(['btc', 'eth'])
    c.send({ op: 'subscribe', assets: ['sol', 'pol', 'talus'] })
    expect(await c.next()).toEqual({
      type: 'error',
      code: 'too_many_subscriptions',
      message: 'at most 3 subscriptions per connection; not subscribed: pol, talus',
      assets: ['pol', 'talus'],
    })
    expect((await c.next()).type).toBe('snapshot')
    // Unsubscribing frees a slot.
    c.send({ op: 'unsubscribe', assets: ['btc'] })
    expect((await c.subscribe(['pol'])).type).toBe('snapshot')
    await s.publish([makeQuote('pol'), makeQuote('btc')])
    expect((await c.next('quotes')).quotes.map((q) => q.asset)).toEqual(['pol'])
    expect(await s.metric('pricewire_ws_subscriptions')).toBe(3)
  })

  it('closes connections beyond the per-IP limit with 4029 and frees the slot on close', async () => {
    const s = await server({ PRICEWIRE_WS_MAX_PER_IP: '2' })
    const a = await client(s)
    await client(s)
    const third = await client(s)
    expect(await third.closed).toEqual({ code: 4029, reason: 'too many connections from this address' })
    expect(await s.metric('pricewire_ws_rejected_total', { reason: 'per_ip' })).toBe(1)
    await a.close()
    await waitFor(async () => (await s.metric('pricewire_ws_connections')) === 1)
    const again = await client(s)
    expect((await again.subscribe(['pol'])).type).toBe('snapshot')
  })

  it('counts X-Forwarded-For addresses only when trust proxy says so', async () => {
    const trusting = await server({ PRICEWIRE_WS_MAX_PER_IP: '1', PRICEWIRE_TRUST_PROXY: '1' })
    const from = (ip: string) => client(trusting, { headers: { 'x-forwarded-for': ip } })
    const first = await from('203.0.113.7')
    const other = await from('198.51.100.1')
    const same = await from('203.0.113.7')
    expect((await same.closed).code).toBe(4029)
    expect(first.isOpen && other.isOpen).toBe(true)

    const untrusting = await server({ PRICEWIRE_WS_MAX_PER_IP: '1' })
    await client(untrusting, { headers: { 'x-forwarded-for': '203.0.113.7' } })
    const spoofed = await client(untrusting, { headers: { 'x-forwarded-for': '198.51.100.9' } })
    expect((await spoofed.closed).code).toBe(4029)
  })

  it('refuses an origin outside the allow-list with 403; no Origin (not a browser) is allowed', async () => {
    const s = await server({ PRICEWIRE_ALLOWED_ORIGINS: 'https://shop.example, https://news.example' })
    const refused = await StreamClient.refused(s.wsUrl, { origin: 'https://evil.example' })
    expect(refused).toEqual({
      status: 403,
      body: { error: { code: 'origin_not_allowed', message: 'origin https://evil.example is not allowed' } },
    })
    expect(await s.metric('pricewire_ws_rejected_total', { reason: 'origin' })).toBe(1)
    const allowed = await client(s, { origin: 'https://NEWS.example' })
    expect((await allowed.subscribe(['pol'])).type).toBe('snapshot')
    const headless = await client(s)
    expect(headless.isOpen).toBe(true)
  })
})
