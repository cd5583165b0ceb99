import { describe, expect, it } from 'vitest'
import { pushTestKit } from '../helpers/push-kit.js'
import { waitFor } from '../helpers/quotes.js'

/** WebSocket-level heartbeat: a ping every PRICEWIRE_WS_PING_MS, terminate without a pong within PRICEWIRE_WS_PONG_TIMEOUT_MS. */

const PING_MS = 150
const PONG_TIMEOUT_MS = 200

const kit = pushTestKit()
const server = (vars: Record<string, string> = {}) =>
  kit.server({
    vars: {
      PRICEWIRE_WS_PING_MS: String(PING_MS),
      PRICEWIRE_WS_PONG_TIMEOUT_MS: String(PONG_TIMEOUT_MS),
      ...vars,
    },
  })
const client = kit.client
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('stream heartbeat', () => {
  it('terminates a client that does not answer pings; one that does stays', async () => {
    const s = await server()
    const mute = await client(s, { autoPong: false })
    const alive = await client(s)
    await mute.subscribe(['pol'])
    let pings = 0
    mute.ws.on('ping', () => pings++)
    const started = Date.now()
    const closed = await mute.closed
    // Terminated (no closing handshake): the client sees an abnormal closure.
    expect(closed.code).toBe(1006)
    expect(pings).toBeGreaterThanOrEqual(1)
    const elapsed = Date.now() - started
    // At the earliest one ping interval plus the pong timeout; generous upper bound for a loaded machine.
    expect(elapsed).toBeGreaterThanOrEqual(PING_MS + PONG_TIMEOUT_MS - 50)
    expect(elapsed).toBeLessThan(3_000)
    await sleep(4 * PING_MS)
    expect(alive.isOpen).toBe(true)
    await waitFor(async () => (await s.metric('pricewire_ws_connections')) === 1)
    expect(await s.metric('pricewire_ws_subscriptions')).toBe(0)
  })

  it('an application {"op":"ping"} is not a pong: a client sending only those is terminated', async () => {
    const s = await server()
    const c = await client(s, { autoPong: false })
    const chatter = setInterval(() => c.isOpen && c.send({ op: 'ping' }), 50)
    try {
      expect((await c.closed).code).toBe(1006)
      expect(c.frames.filter((f) => f.type === 'pong').length).toBeGreaterThan(0)
    } finally {
      clearInterval(chatter)
    }
  })

  it('a pong within the timeout keeps the client; a pong later than the timeout does not', async () => {
    const s = await server({ PRICEWIRE_WS_PONG_TIMEOUT_MS: '400' })
    const prompt = await client(s, { autoPong: false })
    const late = await client(s, { autoPong: false })
    prompt.ws.on('ping', (data) => setTimeout(() => prompt.isOpen && prompt.ws.pong(data), 50))
    late.ws.on('ping', (data) => setTimeout(() => late.isOpen && late.ws.pong(data), 1_200))
    expect((await late.closed).code).toBe(1006)
    await sleep(6 * PING_MS)
    expect(prompt.isOpen).toBe(true)
  })

  it('a terminated connection frees its per-IP slot', async () => {
    const s = await server({ PRICEWIRE_WS_MAX_PER_IP: '1' })
    const mute = await client(s, { autoPong: false })
    await mute.closed
    await waitFor(async () => (await s.metric('pricewire_ws_connections')) === 0)
    const next = await client(s)
    expect((await next.subscribe(['btc'])).type).toBe('snapshot')
  })
})
