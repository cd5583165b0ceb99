import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { AssetRegistryFile } from '../../shared/asset.js'
import type { Quote } from '../../shared/quote.js'
import type { FakeExchange } from '../helpers/fake-exchange.js'
import { type NodeProcess, startNodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/quotes.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import { StreamClient } from '../helpers/ws-client.js'
import { binanceFake, type Venue, venue } from './ingest-exchanges.js'

/**
 * Two (or three) real server processes on one private redis-server. Each node polls its own fake
 * Binance (same market state behind them), so a fake's request log says which node polled and when.
 */

const POLL_MS = 200
const TTL_MS = 1_500
const TICKERS = '/api/v3/ticker/24hr'

const REGISTRY: AssetRegistryFile = {
  assets: [
    {
      id: 'pol',
      symbol: 'POL',
      name: 'Polygon',
      markets: [{ source: 'binance', symbol: 'POLUSDT', quote: 'USDT' }],
    },
  ],
}

let redis: TestRedis
let dir: string
let registryFile: string
let prefixes = 0
/** One market for every fake; its price moves so every poll makes a new quote. */
let market: Venue
let mover: NodeJS.Timeout | undefined

beforeAll(async () => {
  redis = await startRedis()
  dir = mkdtempSync(join(tmpdir(), 'pricewire-multinode-'))
  registryFile = join(dir, 'assets.json')
  writeFileSync(registryFile, JSON.stringify(REGISTRY))
  market = venue({ POLUSDT: { price: 0.25, baseVolume: 10_000_000 } })
  let step = 0
  mover = setInterval(() => {
    market.markets.get('POLUSDT')!.price = 0.25 + (++step % 100) / 10_000
  }, 50)
})
afterAll(async () => {
  clearInterval(mover)
  await redis?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const cleanup: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

interface Node {
  proc: NodeProcess
  fake: FakeExchange
}

async function startNode(id: string, prefix: string): Promise<Node> {
  const fake = await binanceFake(market).start()
  cleanup.push(() => fake.stop())
  const proc = await startNodeProcess({
    id,
    env: {
      REDIS_URL: redis.url,
      PRICEWIRE_REDIS_PREFIX: prefix,
      PRICEWIRE_ASSETS_FILE: registryFile,
      PRICEWIRE_SOURCES: 'binance',
      PRICEWIRE_SOURCE_URL_BINANCE: fake.url,
      PRICEWIRE_STREAMS: 'off',
      PRICEWIRE_POLL_MS: String(POLL_MS),
      PRICEWIRE_LEADER_TTL_MS: String(TTL_MS),
      PRICEWIRE_REQUEST_TIMEOUT_MS: '1000',
      PRICEWIRE_STALE_MS: '30000',
      PRICEWIRE_SHUTDOWN_MS: '3000',
    },
  })
  cleanup.push(() => proc.kill())
  return { proc, fake }
}

async function client(node: Node): Promise<StreamClient> {
  const c = await StreamClient.open(node.proc.wsUrl)
  cleanup.push(() => c.terminate())
  return c
}

const isLeaderLine = (l: { msg?: string }) => l.msg === 'this node is now the poller (leader)'
const tickerTimes = (n: Node) => n.fake.requestsTo(TICKERS).map((r) => r.at)
const pushedQuotes = (c: StreamClient): Quote[] =>
  c.frames.flatMap((f) => (f.type === 'quotes' || f.type === 'snapshot' ? f.quotes : []))
const lastSeq = (c: StreamClient) => Math.max(0, ...pushedQuotes(c).map((q) => q.seq))

async function metricsText(node: Node): Promise<string> {
  return (await fetch(`${node.proc.url}/metrics`)).text()
}
function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1))
}

/** Two nodes, A the leader (started first and elected before B starts). */
async function twoNodes(): Promise<{ a: Node; b: Node; prefix: string }> {
  const prefix = `multi${++prefixes}:`
  const a = await startNode('node-a', prefix)
  await a.proc.waitForLog(isLeaderLine, 10_000)
  const b = await startNode('node-b', prefix)
  return { a, b, prefix }
}

describe('multi-node over one Redis (real processes)', { timeout: 90_000 }, () => {
  it('a client on node B receives the updates polled by node A; only A polls', async () => {
    const { a, b } = await twoNodes()
    const c = await client(b)
    const snapshot = await c.subscribe(['pol'])
    expect(snapshot.type).toBe('snapshot')
    // Several live updates, each a newer quote.
    await waitFor(() => c.frames.filter((f) => f.type === 'quotes').length >= 5, 10_000)
    const seqs = c.frames.flatMap((f) => (f.type === 'quotes' ? f.quotes.map((q) => q.seq) : []))
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!)
    const quote = pushedQuotes(c).at(-1)!
    expect(quote.asset).toBe('pol')
    expect(quote.sources.map((s) => s.source)).toEqual(['binance'])
    expect(quote.price).toBeGreaterThan(0.24)
    expect(quote.price).toBeLessThan(0.27)

    expect(tickerTimes(a).length).toBeGreaterThan(5)
    expect(b.fake.requests).toHaveLength(0) // B never touched an exchange, not even a market list
    expect(b.proc.logs.some(isLeaderLine)).toBe(false)

    // B serves REST from its mirror, the same quote the stream had.
    const rest = (await (await fetch(`${b.proc.url}/v1/quotes?assets=pol`)).json()) as { data: Quote[] }
    expect(rest.data[0]!.seq).toBeGreaterThanOrEqual(seqs[0]!)

    const [ma, mb] = await Promise.all([metricsText(a), metricsText(b)])
    expect(metric(ma, 'pricewire_leader')).toBe(1)
    expect(metric(mb, 'pricewire_leader')).toBe(0)
    expect(metric(mb, 'pricewire_ws_connections')).toBe(1)
    expect(metric(mb, 'pricewire_ws_subscriptions')).toBe(1)
    expect(metric(mb, 'pricewire_bus_lag_seconds_count')).toBeGreaterThan(0)
    expect(metric(ma, 'pricewire_bus_lag_seconds_count')).toBeGreaterThan(0) // the leader delivers from the bus too
  })

  it('kill -9 of the leader: node B polls within the TTL, never overlapping, and its clients go on', async () => {
    const { a, b } = await twoNodes()
    const c = await client(b)
    await c.subscribe(['pol'])
    await waitFor(() => c.frames.filter((f) => f.type === 'quotes').length >= 3, 10_000)
    const seqBefore = lastSeq(c)

    await a.proc.kill()
    const killedAt = Date.now()
    const lastA = Math.max(...tickerTimes(a))
    await waitFor(() => tickerTimes(b).length > 0, TTL_MS + 10_000)
    const firstB = Math.min(...tickerTimes(b))
    const failoverMs = firstB - killedAt
    console.log(`failover: node B's first poll ${failoverMs} ms after kill -9 of node A (TTL ${TTL_MS} ms)`)
    // The lock expires at most TTL after A's last renewal; B tries every TTL/3 and then polls at once.
    expect(failoverMs).toBeLessThanOrEqual(TTL_MS + POLL_MS + TTL_MS / 3 + 1_500)
    // No overlap: every request of B (market list included) came after A's last poll, and after the kill.
    expect(lastA).toBeLessThanOrEqual(killedAt)
    expect(Math.min(...b.fake.requests.map((r) => r.at))).toBeGreaterThanOrEqual(killedAt)
    await b.proc.waitForLog(isLeaderLine, 1_000)

    // B's client never noticed: still connected, and updates go on with newer seqs.
    await waitFor(() => lastSeq(c) > seqBefore + 2, 10_000)
    expect(c.isOpen).toBe(true)
  })

  it('a node that joins while another leads never polls', async () => {
    const { a, prefix } = await twoNodes()
    const late = await startNode('node-c', prefix)
    const c = await client(late)
    await c.subscribe(['pol'])
    await waitFor(() => c.frames.filter((f) => f.type === 'quotes').length >= 3, 10_000)
    await new Promise((r) => setTimeout(r, TTL_MS * 2))
    expect(late.fake.requests).toHaveLength(0)
    expect(tickerTimes(a).length).toBeGreaterThan(10)
  })

  it('SIGTERM of the leader: clients get 1001, the lock is released and B takes over at once', async () => {
    const { a, b, prefix } = await twoNodes()
    const onA = await client(a)
    await onA.subscribe(['pol'])
    const stoppedAt = Date.now()
    const [code, closed] = await Promise.all([a.proc.stop(), onA.closed])
    expect(closed).toEqual({ code: 1001, reason: 'server shutting down' })
    expect(code).toBe(0)
    // A gave the lock back on its way out (it did not wait for the TTL): free, or B's already.
    const store = new Redis(redis.url)
    cleanup.push(() => store.quit())
    expect([null, 'node-b']).toContain(await store.get(`${prefix}lock:poller`))
    await waitFor(() => tickerTimes(b).length > 0, 10_000)
    // Released, not expired: B needs at most one lock attempt (TTL/3), well under the TTL.
    const handoverMs = Math.min(...tickerTimes(b)) - stoppedAt
    console.log(`graceful handover: node B polls ${handoverMs} ms after SIGTERM of node A`)
    expect(Math.max(...tickerTimes(a))).toBeLessThanOrEqual(Math.min(...b.fake.requests.map((r) => r.at)))
  })

  it('Redis kill -9 and restart: no client disconnects, REST answers stale, updates resume', async () => {
    const { a, b } = await twoNodes()
    const ca = await client(a)
    const cb = await client(b)
    await Promise.all([ca.subscribe(['pol']), cb.subscribe(['pol'])])
    await waitFor(() => lastSeq(ca) > 0 && lastSeq(cb) > 0 && cb.frames.length >= 3, 10_000)
    let disconnects = 0
    for (const c of [ca, cb]) void c.closed.then(() => disconnects++)

    await redis.kill()
    // Both nodes notice, keep their sockets and answer REST from memory, flagged stale.
    for (const node of [a, b]) {
      await waitFor(async () => (await fetch(`${node.proc.url}/readyz`)).status === 503, 10_000)
      const res = await fetch(`${node.proc.url}/v1/quotes?assets=pol`)
      expect(res.status).toBe(200)
      const body = (await res.json()) as { data: Quote[] }
      expect(body.data).toHaveLength(1)
      expect(body.data[0]!.stale).toBe(true)
    }
    await new Promise((r) => setTimeout(r, TTL_MS))
    const seqDuring = Math.max(lastSeq(ca), lastSeq(cb))

    await redis.restart()
    const backAt = Date.now()
    await waitFor(() => lastSeq(ca) > seqDuring && lastSeq(cb) > seqDuring, 20_000)
    const resumeMs = Date.now() - backAt
    console.log(`resume: updates reached clients on both nodes ${resumeMs} ms after Redis came back`)
    expect(resumeMs).toBeLessThan(TTL_MS + 10_000)
    expect(disconnects).toBe(0)
    expect(ca.isOpen && cb.isOpen).toBe(true)
    for (const node of [a, b]) {
      await waitFor(async () => (await fetch(`${node.proc.url}/readyz`)).status === 200, 10_000)
      const body = (await (await fetch(`${node.proc.url}/v1/quotes?assets=pol`)).json()) as { data: Quote[] }
      await waitFor(async () => {
        const now = (await (await fetch(`${node.proc.url}/v1/quotes?assets=pol`)).json()) as { data: Quote[] }
        return now.data[0]!.stale === false
      }, 5_000)
      expect(body.data[0]!.seq).toBeGreaterThan(0)
    }
    // Seqs never went back on either client, across the outage.
    for (const c of [ca, cb]) {
      const seqs = c.frames.flatMap((f) => (f.type === 'quotes' ? f.quotes.map((q) => q.seq) : []))
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!)
    }
  })

  it('a quick Redis restart (the lock forgotten inside the lease) never gives two pollers at once', async () => {
    const { a, b } = await twoNodes()
    const c = await client(b)
    await c.subscribe(['pol'])
    await waitFor(() => c.frames.filter((f) => f.type === 'quotes').length >= 2, 10_000)
    const from = Date.now()
    await redis.kill()
    await redis.restart()
    const seqBefore = lastSeq(c)
    await waitFor(() => lastSeq(c) > seqBefore + 3, 20_000)
    // Every ticker request since the restart, in time order, tagged by node: one run per node, at
    // most one hand-over, never interleaved.
    const log = [
      ...a.fake.requestsTo(TICKERS).map((r) => ({ at: r.at, node: 'a' })),
      ...b.fake.requestsTo(TICKERS).map((r) => ({ at: r.at, node: 'b' })),
    ]
      .filter((r) => r.at >= from)
      .sort((x, y) => x.at - y.at)
    const runs = log.map((r) => r.node).filter((node, i, all) => i === 0 || node !== all[i - 1])
    expect(runs.length).toBeLessThanOrEqual(2)
    expect(runs.length === 2 ? runs[0] !== runs[1] : true).toBe(true)
    expect(c.isOpen).toBe(true)
  })
})
