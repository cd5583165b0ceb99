import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startNodeProcess } from '../helpers/node-process.js'
import { type PushApp, startPushApp } from '../helpers/push-app.js'
import { waitFor } from '../helpers/quotes.js'
import { StreamClient } from '../helpers/ws-client.js'

/** Shutdown: every client gets 1001 "server shutting down" (reconnect elsewhere), then the server stops. */

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function client(url: string) {
  const c = await StreamClient.open(url)
  cleanup.push(() => c.terminate())
  return c
}

describe('stream shutdown', () => {
  it('closes every client with 1001 on shutdown and refuses new upgrades meanwhile', async () => {
    const s: PushApp = await startPushApp()
    cleanup.push(() => s.close())
    const clients = [await client(s.wsUrl), await client(s.wsUrl), await client(s.wsUrl)]
    await clients[0]!.subscribe(['pol'])
    // One client does not read: the server's close frame waits in its socket.
    const stuck = await client(s.wsUrl)
    ;(stuck.ws as unknown as { _socket: Socket })._socket.pause()
    const started = Date.now()
    const closing = s.close()
    const codes = await Promise.all(clients.map((c) => c.closed))
    expect(codes).toEqual(Array(3).fill({ code: 1001, reason: 'server shutting down' }))
    // While the stuck socket holds the shutdown, new upgrades are refused with 503, not accepted.
    const refused = await StreamClient.refused(s.wsUrl)
    expect(refused).toEqual({
      status: 503,
      body: { error: { code: 'shutting_down', message: 'this node is shutting down: connect again' } },
    })
    await closing
    // The stuck client was cut after the close wait (min(2 s, PRICEWIRE_SHUTDOWN_MS / 2)), not waited for forever.
    expect(Date.now() - started).toBeLessThan(4_000)
    ;(stuck.ws as unknown as { _socket: Socket })._socket.resume()
    const stuckClosed = await stuck.closed
    expect([1001, 1006]).toContain(stuckClosed.code)
  })

  it('a real process on SIGTERM: 1001 to its clients, exit code 0 within PRICEWIRE_SHUTDOWN_MS', async () => {
    const proc = await startNodeProcess({
      id: 'shutdown-node',
      env: { PRICEWIRE_SOURCES: 'simulated', PRICEWIRE_POLL_MS: '200', PRICEWIRE_SHUTDOWN_MS: '4000' },
    })
    cleanup.push(() => proc.kill())
    const a = await client(proc.wsUrl)
    const b = await client(proc.wsUrl)
    const snapshot = await a.subscribe(['btc'])
    expect(snapshot.quotes.map((q) => q.asset)).toEqual(['btc'])
    await waitFor(() => a.frames.some((f) => f.type === 'quotes'), 10_000)
    const started = Date.now()
    const [code, ca, cb] = await Promise.all([proc.stop(), a.closed, b.closed])
    expect(ca).toEqual({ code: 1001, reason: 'server shutting down' })
    expect(cb).toEqual({ code: 1001, reason: 'server shutting down' })
    expect(code).toBe(0)
    expect(Date.now() - started).toBeLessThan(4_000)
    expect(proc.logs.some((l) => l.msg === 'shutting down')).toBe(true)
  }, 60_000)
})
