import type { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import type { PushLimits } from '../../server/push/limits.js'
import type { QuotesFrame } from '../../shared/protocol.js'
import type { Quote } from '../../shared/quote.js'
import type { PushApp } from '../helpers/push-app.js'
import { pushTestKit } from '../helpers/push-kit.js'
import { makeQuote, waitFor } from '../helpers/quotes.js'

const ASSETS = ['btc', 'eth', 'sol', 'pol', 'talus']
const kit = pushTestKit()

async function setup(limits: Partial<PushLimits>) {
  const s = await kit.server({ limits })
  const c = await kit.client(s)
  await c.subscribe(ASSETS)
  return { s, c, socket: (c.ws as unknown as { _socket: Socket })._socket }
}

/** A batch of every asset with `sourceCount` sources each: about 90 bytes per source. */
function batch(seq: number, sourceCount: number): Quote[] {
  const sources = Array.from({ length: sourceCount }, (_, i) => ({
    source: 'binance' as const,
    market: `MARKET${i}USDT`,
    price: 1 + i / 1000,
    volume24h: 1000 + i,
    ts: 1_700_000_000_000 + i,
  }))
  return ASSETS.map((asset) => makeQuote(asset, { seq, price: seq, sources }))
}

const tick = () => new Promise((r) => setImmediate(r))

/** Publishes batches (seq from `from`) until `until` is true; returns the next seq. */
async function publishUntil(s: PushApp, from: number, sourceCount: number, until: () => Promise<boolean>) {
  let seq = from
  for (; seq < from + 5_000; seq++) {
    await s.publish(batch(seq, sourceCount))
    await tick()
    if (seq % 10 === 0 && (await until())) return seq + 1
  }
  throw new Error('the condition was never met')
}

describe('stream: slow consumers', () => {
  it('conflates to the newest quote per asset while a client does not read, then catches it up', async () => {
    const { s, c, socket } = await setup({ queueSoftBytes: 64 * 1024, queueHardBytes: 64 * 1024 * 1024 })
    socket.pause()
    let seq = await publishUntil(
      s,
      1,
      40,
      async () => (await s.metric('pricewire_ws_conflated_updates_total')) > 0,
    )
    const bytesBefore = await s.metric('pricewire_ws_bytes_sent_total')
    const conflatedBefore = await s.metric('pricewire_ws_conflated_updates_total')
    for (const end = seq + 300; seq < end; seq++) {
      await s.publish(batch(seq, 40))
      await tick()
    }
    const last = seq - 1
    // Nothing more was written to the stalled socket: the server holds one quote per asset.
    expect(await s.metric('pricewire_ws_bytes_sent_total')).toBe(bytesBefore)
    expect((await s.metric('pricewire_ws_conflated_updates_total')) - conflatedBefore).toBe(
      300 * ASSETS.length,
    )

    socket.resume()
    const newest = new Map<string, number>()
    await waitFor(() => {
      for (const f of c.frames) if (f.type === 'quotes') for (const q of f.quotes) newest.set(q.asset, q.seq)
      return ASSETS.every((a) => newest.get(a) === last)
    }, 10_000)
    const frames = c.frames.filter((f): f is QuotesFrame => f.type === 'quotes')
    expect(frames.length).toBeLessThan(last - 250)
    // Delivered in order: seq never goes back for an asset.
    const seen = new Map<string, number>()
    for (const f of frames)
      for (const q of f.quotes) {
        expect(q.seq).toBeGreaterThan(seen.get(q.asset) ?? 0)
        seen.set(q.asset, q.seq)
      }
    // Back to normal: the next batch comes straight through.
    await s.publish(batch(last + 1, 1))
    await waitFor(() => c.frames.some((f) => f.type === 'quotes' && f.quotes[0]!.seq === last + 1))
    expect(c.isOpen).toBe(true)
    expect(await s.metric('pricewire_ws_slow_consumer_closes_total')).toBe(0)
  })

  it('closes 4008 "slow consumer" when the queue stays over the hard limit past the grace period', async () => {
    const soft = 16 * 1024
    const hard = 96 * 1024
    const { s, c, socket } = await setup({ queueSoftBytes: soft, queueHardBytes: hard, slowGraceMs: 300 })
    socket.pause()
    // ≈ 120 KB per frame: once the kernel buffers are full, one frame puts the queue over the hard limit.
    await publishUntil(s, 1, 260, async () => (await s.metric('pricewire_ws_conflated_updates_total')) > 0)
    const bytesAtConflation = await s.metric('pricewire_ws_bytes_sent_total')
    const started = Date.now()
    let seq = 10_000
    await waitFor(async () => {
      await s.publish(batch(seq++, 260))
      return (await s.metric('pricewire_ws_slow_consumer_closes_total')) === 1
    }, 5_000)
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    // Bounded: after conflation began, at most one more frame went to the socket.
    expect((await s.metric('pricewire_ws_bytes_sent_total')) - bytesAtConflation).toBeLessThan(hard)
    expect(await s.metric('pricewire_ws_connections')).toBe(0)
    socket.resume()
    expect(await c.closed).toEqual({ code: 4008, reason: 'slow consumer' })
  })

  it('keeps a slow but reading client connected, with conflated updates', async () => {
    const { s, c, socket } = await setup({ queueSoftBytes: 16 * 1024, queueHardBytes: 8 * 1024 * 1024 })
    // The client reads in bursts: paused most of the time.
    const reader = setInterval(() => {
      socket.resume()
      setTimeout(() => socket.pause(), 5)
    }, 100)
    try {
      let seq = 1
      // At least 1.5 s of updates, and on until the socket has fallen behind once (how soon depends
      // on the kernel's socket buffers and the machine's load).
      const minEnd = Date.now() + 1_500
      const maxEnd = Date.now() + 15_000
      let conflated = false
      while (Date.now() < maxEnd && (Date.now() < minEnd || !conflated)) {
        await s.publish(batch(seq++, 120))
        await tick()
        if (seq % 10 === 0) conflated = (await s.metric('pricewire_ws_conflated_updates_total')) > 0
      }
      const last = seq - 1
      socket.resume()
      await waitFor(
        () => c.frames.some((f) => f.type === 'quotes' && f.quotes.some((q) => q.seq === last)),
        10_000,
      )
      expect(c.isOpen).toBe(true)
      expect(await s.metric('pricewire_ws_conflated_updates_total')).toBeGreaterThan(0)
      expect(await s.metric('pricewire_ws_slow_consumer_closes_total')).toBe(0)
    } finally {
      clearInterval(reader)
    }
  })
})
