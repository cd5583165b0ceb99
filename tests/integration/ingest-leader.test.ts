import { afterEach, describe, expect, it } from 'vitest'
import type { Engine } from '../../server/engine/engine.js'
import { MemoryEngine } from '../../server/engine/memory.js'
import { waitFor } from '../helpers/quotes.js'
import {
  type Harness,
  metricValue,
  sleep,
  standardVenues,
  startHarness,
  TEST_REGISTRY,
  TICKER_PATH,
} from './ingest-exchanges.js'

/** Leader election on one engine: each node has its own fake exchanges, so their request logs tell who polls. */

const harnesses: Harness[] = []
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.close()))
})

async function node(engine: Engine, nodeId: string): Promise<Harness> {
  const h = await startHarness({ venues: standardVenues(), registry: TEST_REGISTRY, engine, nodeId })
  harnesses.push(h)
  return h
}

const tickerTimes = (h: Harness) =>
  (['binance', 'bybit', 'kraken', 'mexc', 'gate'] as const).flatMap((id) =>
    h.fakes[id]!.requestsTo(TICKER_PATH[id]!).map((r) => r.at),
  )
const allRequests = (h: Harness) => Object.values(h.fakes).flatMap((f) => f.requests)

/** A MemoryEngine whose lock renewals can be made to hang (a store that stops answering). */
class HangingRenewEngine extends MemoryEngine {
  hang = false
  lastRenewOkSentAt = 0
  override async renewLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    if (this.hang) return new Promise<boolean>(() => {})
    const sentAt = Date.now()
    const ok = await super.renewLock(name, owner, ttlMs)
    if (ok) this.lastRenewOkSentAt = sentAt
    return ok
  }
}

describe('ingest leader election', () => {
  it('two ingests on one engine: only the leader polls, both nodes receive its quotes', async () => {
    const engine = new MemoryEngine()
    const a = await node(engine, 'node-a')
    const b = await node(engine, 'node-b')
    await sleep(800)
    expect(a.ingest.isLeader()).toBe(true)
    expect(b.ingest.isLeader()).toBe(false)
    expect(tickerTimes(a).length).toBeGreaterThan(20)
    expect(allRequests(b)).toHaveLength(0) // not even a market list
    expect(await metricValue(a.metrics, 'isLeader')).toBe(1)
    expect(await metricValue(b.metrics, 'isLeader')).toBe(0)
    expect(b.batches.length).toBeGreaterThan(0)
    expect(new Set(b.batches.map((x) => x.origin))).toEqual(new Set(['node-a']))
  })

  it('when the leader stops, the other node takes over (and never overlaps)', async () => {
    const engine = new MemoryEngine()
    const a = await node(engine, 'node-a')
    const b = await node(engine, 'node-b')
    await waitFor(() => a.quotesOf('pol').length >= 2)
    const lastSeqA = engine.latest('pol')!.seq
    await a.ingest.stop()
    const stoppedAt = Date.now()
    await waitFor(() => b.ingest.isLeader(), 3000)
    await waitFor(
      () => b.batches.some((x) => x.origin === 'node-b' && x.quotes.some((q) => q.asset === 'pol')),
      3000,
    )
    expect(Math.max(...tickerTimes(a))).toBeLessThanOrEqual(stoppedAt)
    expect(Math.min(...tickerTimes(b))).toBeGreaterThanOrEqual(stoppedAt)
    const firstB = b.batches.find((x) => x.origin === 'node-b' && x.quotes.some((q) => q.asset === 'pol'))!
    expect(firstB.quotes.find((q) => q.asset === 'pol')!.seq).toBeGreaterThan(lastSeqA)
  })

  it('losing the lock stops polling and publishing at once', async () => {
    const engine = new MemoryEngine()
    const a = await node(engine, 'node-a')
    await waitFor(() => a.quotesOf('pol').length >= 2)
    // Another owner takes the lock (as after an expiry during a pause).
    await engine.releaseLock('poller', 'node-a')
    expect(await engine.acquireLock('poller', 'intruder', 60_000)).toBe(true)
    const stolenAt = Date.now()
    await waitFor(() => !a.ingest.isLeader(), 2000)
    const noticedAt = Date.now()
    expect(noticedAt - stolenAt).toBeLessThanOrEqual(1000 / 3 + 200)
    await sleep(500)
    expect(Math.max(...tickerTimes(a))).toBeLessThanOrEqual(noticedAt + 5)
    expect(a.batches.filter((x) => x.publishedAt > noticedAt + 5)).toHaveLength(0)
    expect(await metricValue(a.metrics, 'isLeader')).toBe(0)
    expect(a.lines.some((l) => String(l.msg).includes('stopped polling: the lock was lost'))).toBe(true)
  })

  it('a leader that cannot renew stops polling before its lock expires; the next leader starts after', async () => {
    const engine = new HangingRenewEngine()
    const a = await node(engine, 'node-a')
    const b = await node(engine, 'node-b')
    await waitFor(() => a.quotesOf('pol').length >= 2)
    await sleep(400) // at least one renewal went through
    engine.hang = true
    const lockExpiresAt = engine.lastRenewOkSentAt + 1000
    await waitFor(() => !a.ingest.isLeader(), 2000)
    expect(Date.now()).toBeLessThan(lockExpiresAt)
    await waitFor(() => b.ingest.isLeader(), 3000)
    await waitFor(() => tickerTimes(b).length > 3, 3000)
    const lastA = Math.max(...tickerTimes(a))
    const firstB = Math.min(...tickerTimes(b))
    expect(lastA).toBeLessThan(lockExpiresAt)
    expect(firstB).toBeGreaterThanOrEqual(lockExpiresAt)
    expect(lastA).toBeLessThan(firstB)
    expect(a.lines.some((l) => String(l.msg).includes('the lease ran out without a confirmed renewal'))).toBe(
      true,
    )
  })
})
