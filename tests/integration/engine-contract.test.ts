import { spawn } from 'node:child_process'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Engine, QuoteBatch } from '../../server/engine/engine.js'
import { MemoryEngine } from '../../server/engine/memory.js'
import { RedisEngine } from '../../server/engine/redis.js'
import { createMetrics } from '../../server/metrics.js'
import { freePort } from '../helpers/free-port.js'
import { makeQuote, waitFor } from '../helpers/quotes.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'

const logger = pino({ level: 'silent' })
let redis: TestRedis
let prefixCounter = 0

beforeAll(async () => {
  redis = await startRedis()
})
/** Private redis-servers of single tests: killed here too, should a test time out before its finally. */
const ownServers: ReturnType<typeof spawn>[] = []
afterAll(async () => {
  await redis?.stop()
  for (const p of ownServers) p.kill('SIGKILL')
})

const engines: [string, () => Engine][] = [
  ['memory', () => new MemoryEngine()],
  ['redis', () => new RedisEngine({ url: redis.url, prefix: `t${++prefixCounter}:`, logger })],
]

/** One contract, run unchanged against every engine. */
describe.each(engines)('engine contract: %s', (_kind, make) => {
  async function withEngine(fn: (e: Engine) => Promise<void>) {
    const e = make()
    await e.start()
    try {
      await fn(e)
    } finally {
      await e.close()
    }
  }

  it('is ready once started', () =>
    withEngine(async (e) => {
      await waitFor(() => e.readiness().ready)
      expect(e.readiness()).toEqual({ ready: true })
    }))

  it('sets many quotes and gets many in one call, null for unknown', () =>
    withEngine(async (e) => {
      await waitFor(() => e.readiness().ready)
      await e.setQuotes([
        makeQuote('pol', { price: 0.25 }),
        makeQuote('talus', { price: 0.01, symbol: 'US' }),
      ])
      const [pol, talus, none] = await e.getQuotes(['pol', 'talus', 'nope'])
      expect(pol?.price).toBe(0.25)
      expect(talus?.symbol).toBe('US')
      expect(none).toBeNull()
      expect(e.latest('pol')?.price).toBe(0.25)
      expect(await e.getQuotes([])).toEqual([])
    }))

  it('moves the mirror version on with every new quote, and not otherwise', () =>
    withEngine(async (e) => {
      await waitFor(() => e.readiness().ready)
      const v0 = e.mirrorVersion()
      await e.getQuotes(['pol'])
      expect(e.mirrorVersion()).toBe(v0)
      await e.setQuotes([makeQuote('pol', { seq: 1 })])
      const v1 = e.mirrorVersion()
      expect(v1).toBeGreaterThan(v0)
      await e.publish({
        origin: 'n',
        publishedAt: Date.now(),
        quotes: [makeQuote('pol', { seq: 2 })],
        history: [],
      })
      expect(e.mirrorVersion()).toBeGreaterThan(v1)
      expect(e.latest('pol')?.seq).toBe(2)
    }))

  it('appends history, replaces a point at the same timestamp, reads a range oldest first', () =>
    withEngine(async (e) => {
      await waitFor(() => e.readiness().ready)
      const now = Date.now()
      const t = (min: number) => now - min * 60_000
      await e.appendHistory('pol', '5m', [
        [t(10), 0.2],
        [t(5), 0.21],
      ])
      await e.appendHistory('pol', '5m', [
        [t(5), 0.22],
        [t(0), 0.23],
      ])
      expect(await e.readHistory('pol', '5m', t(60))).toEqual([
        [t(10), 0.2],
        [t(5), 0.22],
        [t(0), 0.23],
      ])
      expect(await e.readHistory('pol', '5m', t(6), t(1))).toEqual([[t(5), 0.22]])
      expect(await e.readHistory('pol', '1h', 0)).toEqual([])
    }))

  it('trims history by age', () =>
    withEngine(async (e) => {
      await waitFor(() => e.readiness().ready)
      const now = Date.now()
      await e.appendHistory('btc', '5m', [
        [now - 30 * 3_600_000, 1],
        [now - 3_600_000, 2],
      ])
      expect(await e.readHistory('btc', '5m', 0)).toEqual([[now - 3_600_000, 2]])
      await e.appendHistory('btc', '1h', [
        [now - 8 * 24 * 3_600_000, 1],
        [now - 6 * 24 * 3_600_000, 3],
      ])
      expect(await e.readHistory('btc', '1h', 0)).toEqual([[now - 6 * 24 * 3_600_000, 3]])
    }))

  it('publishes batches to every subscriber, including across engine instances on one store', async () => {
    const a = make()
    await a.start()
    try {
      await waitFor(() => a.readiness().ready)
      const seen: QuoteBatch[] = []
      const off = a.subscribe((b) => seen.push(b))
      await new Promise((r) => setTimeout(r, 50)) // subscription settles
      const batch: QuoteBatch = {
        origin: 'node-a',
        publishedAt: Date.now(),
        quotes: [makeQuote('eth', { price: 3500, seq: 7 })],
        history: [{ asset: 'eth', resolution: '5m', point: [Date.now(), 3500] }],
      }
      await a.publish(batch)
      await waitFor(() => seen.length === 1)
      expect(seen[0]).toEqual(batch)
      expect(a.latest('eth')?.seq).toBe(7)
      off()
      await a.publish(batch)
      await new Promise((r) => setTimeout(r, 50))
      expect(seen).toHaveLength(1)
    } finally {
      await a.close()
    }
  })

  it('lock: one owner at a time, renew only by the owner, release frees it, TTL expires it', () =>
    withEngine(async (e) => {
      await waitFor(() => e.readiness().ready)
      expect(await e.acquireLock('poller', 'a', 300)).toBe(true)
      expect(await e.acquireLock('poller', 'b', 300)).toBe(false)
      expect(await e.acquireLock('poller', 'a', 300)).toBe(true) // re-entrant for its owner
      expect(await e.renewLock('poller', 'b', 300)).toBe(false)
      expect(await e.renewLock('poller', 'a', 300)).toBe(true)
      await e.releaseLock('poller', 'b') // not b's: no effect
      expect(await e.acquireLock('poller', 'b', 300)).toBe(false)
      await e.releaseLock('poller', 'a')
      expect(await e.acquireLock('poller', 'b', 150)).toBe(true)
      await new Promise((r) => setTimeout(r, 250))
      expect(await e.renewLock('poller', 'b', 150)).toBe(false)
      expect(await e.acquireLock('poller', 'a', 150)).toBe(true)
    }))

  it('lock: says how long until a held lock frees, 0 once it is free', () =>
    withEngine(async (e) => {
      await waitFor(() => e.readiness().ready)
      expect(await e.lockFreeInMs('poller', 300)).toBe(0)
      expect(await e.acquireLock('poller', 'a', 300)).toBe(true)
      const left = await e.lockFreeInMs('poller', 300)
      expect(left).toBeGreaterThan(200)
      expect(left).toBeLessThanOrEqual(300)
      await e.releaseLock('poller', 'a')
      expect(await e.lockFreeInMs('poller', 300)).toBe(0)
    }))
})

describe('redis engine across nodes and outages', () => {
  it('two nodes share quotes and the bus; the lock is exclusive between them', async () => {
    const prefix = `x${++prefixCounter}:`
    const a = new RedisEngine({ url: redis.url, prefix, logger })
    const b = new RedisEngine({ url: redis.url, prefix, logger })
    await Promise.all([a.start(), b.start()])
    try {
      await waitFor(() => a.readiness().ready && b.readiness().ready)
      await a.setQuotes([makeQuote('sol', { price: 180 })])
      expect((await b.getQuotes(['sol']))[0]?.price).toBe(180)
      const seen: QuoteBatch[] = []
      b.subscribe((batch) => seen.push(batch))
      await new Promise((r) => setTimeout(r, 50))
      const before = b.mirrorVersion()
      await a.publish({
        origin: 'a',
        publishedAt: Date.now(),
        quotes: [makeQuote('sol', { seq: 2 })],
        history: [],
      })
      await waitFor(() => seen.length === 1)
      expect(b.latest('sol')?.seq).toBe(2)
      // A quote that came over the bus is a mirror change too.
      expect(b.mirrorVersion()).toBeGreaterThan(before)
      expect(await a.acquireLock('poller', 'a', 1_000)).toBe(true)
      expect(await b.acquireLock('poller', 'b', 1_000)).toBe(false)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('survives a Redis kill and restart: reads from the mirror, not-ready, then resubscribes and restores', async () => {
    const metrics = createMetrics()
    const prefix = `r${++prefixCounter}:`
    const a = new RedisEngine({ url: redis.url, prefix, logger, metrics })
    const b = new RedisEngine({ url: redis.url, prefix, logger })
    await Promise.all([a.start(), b.start()])
    try {
      await waitFor(() => a.readiness().ready && b.readiness().ready)
      await a.setQuotes([makeQuote('pol', { price: 0.25, seq: 3 })])
      const seen: QuoteBatch[] = []
      b.subscribe((batch) => seen.push(batch))

      await redis.kill()
      await waitFor(() => !a.readiness().ready)
      const down = a.readiness()
      expect(down.ready).toBe(false)
      if (!down.ready) expect(down.reason).toMatch(/redis/)
      // Reads keep working from the mirror; writes fail fast, nothing hangs or crashes.
      expect((await a.getQuotes(['pol']))[0]?.price).toBe(0.25)
      expect(a.latest('pol')?.price).toBe(0.25)
      await expect(
        a.publish({ origin: 'a', publishedAt: Date.now(), quotes: [], history: [] }),
      ).rejects.toThrow()
      expect(await metrics.registry.getSingleMetricAsString('pricewire_engine_ready')).toMatch(/ 0$/m)

      await redis.restart()
      await waitFor(() => a.readiness().ready && b.readiness().ready, 10_000)
      // Redis came back empty: the quote node A had is written back from its mirror.
      await waitFor(async () => (await b.getQuotes(['pol']))[0]?.price === 0.25)
      // Publish/subscribe resumes over the resubscribed connection.
      await waitFor(
        async () => {
          await a.publish({
            origin: 'a',
            publishedAt: Date.now(),
            quotes: [makeQuote('pol', { seq: 4 })],
            history: [],
          })
          return seen.length > 0
        },
        10_000,
        100,
      )
      expect(b.latest('pol')?.seq).toBe(4)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('starts while Redis is down (not ready, nothing thrown), then connects, loads and receives the bus', async () => {
    const prefix = `late${++prefixCounter}:`
    const writer = new RedisEngine({ url: redis.url, prefix, logger })
    await writer.start()
    await waitFor(() => writer.readiness().ready)
    await writer.close()
    await redis.kill()
    const late = new RedisEngine({ url: redis.url, prefix, logger })
    const seen: QuoteBatch[] = []
    late.subscribe((b) => seen.push(b))
    try {
      await late.start()
      expect(late.readiness().ready).toBe(false)
      expect(await late.getQuotes(['eth'])).toEqual([null])
      await redis.restart()
      await waitFor(() => late.readiness().ready, 10_000)
      const other = new RedisEngine({ url: redis.url, prefix, logger })
      await other.start()
      try {
        await waitFor(() => other.readiness().ready)
        await other.setQuotes([makeQuote('eth', { seq: 7 })])
        await waitFor(
          async () => {
            await other.publish({
              origin: 'other',
              publishedAt: Date.now(),
              quotes: [makeQuote('eth', { seq: 8 })],
              history: [],
            })
            return seen.length > 0
          },
          10_000,
          100,
        )
        expect(late.latest('eth')?.seq).toBe(8)
      } finally {
        await other.close()
      }
    } finally {
      await late.close()
    }
  })

  it('a Redis that stops answering (SIGSTOP) never hangs a read: it fails within the command timeout', async () => {
    // Its own redis-server, to freeze and thaw it by pid.
    const port = await freePort()
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    )
    ownServers.push(proc)
    const url = `redis://127.0.0.1:${port}`
    const e = new RedisEngine({ url, prefix: 'stall:', logger })
    try {
      await waitFor(
        async () => {
          await e.start()
          return e.readiness().ready
        },
        10_000,
        100,
      )
      await e.setQuotes([makeQuote('btc', { seq: 1 })])
      await e.appendHistory('btc', '5m', [[Date.now() - 60_000, 1]])
      proc.kill('SIGSTOP')
      const started = Date.now()
      await expect(e.readHistory('btc', '5m', 0)).rejects.toThrow(/timed out/i)
      // Latest quotes come from the mirror when the store does not answer.
      expect((await e.getQuotes(['btc']))[0]?.seq).toBe(1)
      expect(Date.now() - started).toBeLessThan(8_000)
      proc.kill('SIGCONT')
      await waitFor(
        async () => (await e.readHistory('btc', '5m', 0).catch(() => [])).length === 1,
        10_000,
        100,
      )
    } finally {
      proc.kill('SIGCONT')
      await e.close()
      proc.kill('SIGKILL')
    }
  })

  it('after a Redis restart (locks forgotten) no node takes a lock for one TTL, so a former holder has stopped', async () => {
    const prefix = `lock${++prefixCounter}:`
    const a = new RedisEngine({ url: redis.url, prefix, logger })
    const b = new RedisEngine({ url: redis.url, prefix, logger })
    await Promise.all([a.start(), b.start()])
    try {
      await waitFor(() => a.readiness().ready && b.readiness().ready)
      expect(await a.acquireLock('poller', 'a', 1_000)).toBe(true)
      expect(await b.acquireLock('poller', 'b', 1_000)).toBe(false)
      await redis.kill()
      await redis.restart()
      await waitFor(() => a.readiness().ready && b.readiness().ready, 10_000)
      const backAt = Date.now()
      // The lock is gone from Redis, yet B may not take it while A could still think it holds it.
      expect(await b.acquireLock('poller', 'b', 1_000)).toBe(false)
      // …and says when it may: the hold-back counts although Redis holds no lock.
      expect(await b.lockFreeInMs('poller', 1_000)).toBeGreaterThan(0)
      expect(await a.renewLock('poller', 'a', 1_000)).toBe(false)
      await waitFor(() => b.acquireLock('poller', 'b', 1_000), 5_000, 50)
      expect(Date.now() - backAt).toBeGreaterThanOrEqual(900)
      expect(await a.acquireLock('poller', 'a', 1_000)).toBe(false)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })
})
