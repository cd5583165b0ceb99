/**
 * `npm run soak [-- --minutes N]` (default 10): a two-node cluster on one redis-server with fake
 * exchanges and hundreds of stream clients, under periodic chaos — Redis kill -9 and restart,
 * leader kill -9 and restart, exchange faults — printing every minute the nodes' RSS, the delivery
 * ratio, the p99 publish→receive latency and errors, then a summary. Exit code 1 when an invariant
 * breaks: a bad price, a seq going back on a connection, two pollers at once, a disconnect not
 * caused by a node kill, a node fault (unhandled error), a minute without updates, unbounded RSS.
 */
import { readFileSync } from 'node:fs'
import type { FakeReply } from '../helpers/fake-exchange.js'
import { startRedis } from '../helpers/redis-server.js'
import { type ClusterNode, startCluster, TICKERS } from './cluster.js'
import { percentile, sleep, watchProcessFaults } from './figures.js'
import { LiveClient } from './live-client.js'

const minutesArg = process.argv.indexOf('--minutes')
const MINUTES = minutesArg > 0 ? Number(process.argv[minutesArg + 1]) : 10
if (!(MINUTES > 0 && MINUTES <= 24 * 60)) {
  console.error('usage: npm run soak -- --minutes N (1 to 1440)')
  process.exit(2)
}
const CLIENTS = 300
const ASSETS = 10
const TTL_MS = 1_500
const CHAOS_EVERY_MS = 20_000

const watcher = watchProcessFaults()
const violations: string[] = []
const violate = (what: string) => {
  violations.push(what)
  console.log(`  ✗ ${what}`)
}

const rssOf = (pid: number) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

const redis = await startRedis()
const cluster = await startCluster({
  assets: ASSETS,
  redisUrl: redis.url,
  prefix: 'soak:',
  env: { PRICEWIRE_LEADER_TTL_MS: String(TTL_MS), PRICEWIRE_POLL_MS: '200', PRICEWIRE_STALE_MS: '10000' },
})
/** Two slots; a killed node is replaced in its slot. Every process ever started, for the request log and faults. */
const slots: ClusterNode[] = [await cluster.startNode('soak-a-1'), await cluster.startNode('soak-b-1')]
const everyNode: ClusterNode[] = [...slots]
const restarts = [1, 1]

// ── clients: reconnect to a live node when closed ─────────────────────────
const clients = new Set<LiveClient>()
let expectedDisconnects = 0
let unexpectedDisconnects = 0
let reconnecting = 0
/** Nodes being killed on purpose: their clients' closes are expected. */
const dying = new Set<ClusterNode>()
const badPrices: string[] = []
let seqBack = 0
let seqRepeated = 0

async function connect(i: number): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const node = slots[(i + attempt) % slots.length]!
    if (dying.has(node)) continue
    try {
      const c = await LiveClient.open(node.proc.wsUrl)
      c.recordLatency = true
      const window = track(c)
      c.subscribe(cluster.assets)
      clients.add(c)
      void c.closed.then(() => {
        window.to = Date.now()
        clients.delete(c)
        badPrices.push(...c.badPrices)
        seqBack += c.seqWentBack
        seqRepeated += c.seqRepeated
        if (stopping) return
        if (dying.has(node)) expectedDisconnects++
        else {
          unexpectedDisconnects++
          violate(`client on ${node.proc.id} closed ${c.closeCode} without a node kill`)
        }
        reconnecting++
        void sleep(Math.random() * 1_000)
          .then(() => connect(i))
          .finally(() => reconnecting--)
      })
      return
    } catch {
      await sleep(200)
    }
  }
  violate(`client ${i} could not reconnect`)
}
let stopping = false

/**
 * Delivery: every (asset, seq) any client received is taken as published, at the first time one
 * did; a client is expected to get those first seen while it was connected (a second's margin at
 * both ends), and the ratio is what clients got of what they were expected to get.
 */
interface Window {
  from: number
  to: number | undefined
  seen: Set<string>
}
let firstSeen = new Map<string, number>()
let windows: Window[] = []
function track(c: LiveClient): Window {
  const window: Window = { from: Date.now(), to: undefined, seen: new Set() }
  windows.push(window)
  c.onQuote = (q, at) => {
    const key = `${q.asset}:${q.seq}`
    window.seen.add(key)
    if (!firstSeen.has(key)) firstSeen.set(key, at)
  }
  return window
}
function deliveryRatio(until: number): number {
  let expected = 0
  let got = 0
  for (const w of windows) {
    const to = (w.to ?? until) - 1_000
    for (const [key, at] of firstSeen) {
      if (at < w.from + 1_000 || at > to) continue
      expected++
      if (w.seen.has(key)) got++
    }
  }
  return expected ? got / expected : 1
}
for (let i = 0; i < CLIENTS; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => connect(i + j)))

// ── chaos ─────────────────────────────────────────────────────────────────
const FAULTS: [string, FakeReply][] = [
  ['HTTP 500', { kind: 'status', status: 500 }],
  ['timeout', { kind: 'hang' }],
  ['reset', { kind: 'reset' }],
  ['invalid JSON', { kind: 'raw', body: '[{"symbol":' }],
  ['429', { kind: 'status', status: 429, headers: { 'retry-after': '2' } }],
]
let chaosRound = 0
const events: string[] = []

async function leaderSlot(): Promise<number> {
  for (let i = 0; i < slots.length; i++) {
    try {
      const text = await (
        await fetch(`${slots[i]!.proc.url}/metrics`, { signal: AbortSignal.timeout(2_000) })
      ).text()
      if (/^pricewire_leader 1$/m.test(text)) return i
    } catch {}
  }
  return -1
}

async function chaos(): Promise<void> {
  const kind = chaosRound++ % 3
  if (kind === 0) {
    await redis.kill()
    await sleep(2_000 + Math.random() * 2_000)
    await redis.restart()
    events.push('redis kill -9 + restart')
  } else if (kind === 1) {
    const i = await leaderSlot()
    if (i < 0) {
      events.push('leader kill skipped (no leader right now)')
      return
    }
    const old = slots[i]!
    dying.add(old)
    await old.proc.kill()
    await sleep(3_000)
    const id = `soak-${i === 0 ? 'a' : 'b'}-${++restarts[i]!}`
    const fresh = await cluster.startNode(id)
    slots[i] = fresh
    everyNode.push(fresh)
    events.push(`leader ${old.proc.id} kill -9, replaced by ${id}`)
  } else {
    const [name, reply] = FAULTS[Math.floor(chaosRound / 3) % FAULTS.length]!
    cluster.market.tickerFault = () => reply
    await sleep(4_000)
    cluster.market.tickerFault = undefined
    events.push(`exchange fault: ${name} for 4 s`)
  }
}

// ── the run ───────────────────────────────────────────────────────────────
const started = Date.now()
const end = started + MINUTES * 60_000
const rssFirst: number[] = []
const summary: { p99: number; ratio: number; rss: string }[] = []
let nextChaos = started + 10_000
let minute = 0
console.log(
  `soak: ${MINUTES} min, 2 nodes, ${CLIENTS} clients, ${ASSETS} assets, chaos every ${CHAOS_EVERY_MS / 1000} s`,
)

while (Date.now() < end) {
  const minuteEnd = Math.min(end, started + (minute + 1) * 60_000)
  const atStart = new Map([...clients].map((c) => [c, c.quotes]))
  for (const c of clients) {
    c.latencies = []
    c.staleQuotes = 0
  }
  firstSeen = new Map()
  const minuteStart = Date.now()
  windows = windows.filter((w) => w.to === undefined)
  for (const w of windows) {
    w.seen.clear()
    w.from = minuteStart - 1_000
  }
  while (Date.now() < minuteEnd) {
    if (Date.now() >= nextChaos) {
      await chaos()
      nextChaos = Date.now() + CHAOS_EVERY_MS
    }
    await sleep(250)
  }
  minute++
  const whole = [...clients].filter((c) => atStart.has(c)).map((c) => c.quotes - atStart.get(c)!)
  const ratio = deliveryRatio(Date.now())
  const published = firstSeen.size
  const starved = whole.filter((n) => n === 0).length
  const latencies = [...clients].flatMap((c) => c.latencies)
  const p99 = percentile(latencies, 99)
  const staleQuotes = [...clients].reduce((n, c) => n + c.staleQuotes, 0)
  const rss = slots.map((n) => rssOf(n.proc.pid))
  if (minute === 1) rssFirst.push(...rss)
  for (const c of clients) {
    badPrices.push(...c.badPrices.splice(0))
    seqBack += c.seqWentBack
    seqRepeated += c.seqRepeated
    c.seqWentBack = 0
    c.seqRepeated = 0
  }
  const faults = cluster.faults(everyNode)
  console.log(
    `minute ${minute}: rss ${slots.map((n, i) => `${n.proc.id} ${rss[i]!.toFixed(0)} MB`).join(', ')}; ` +
      `clients open ${clients.size}/${CLIENTS}; delivery ratio ${(ratio * 100).toFixed(2)}% of ${published} quotes published; ` +
      `p99 ${p99} ms (p50 ${percentile(latencies, 50)} ms; ${staleQuotes} stale-flagged quotes not timed); disconnects expected ${expectedDisconnects}, ` +
      `unexpected ${unexpectedDisconnects}; errors: node faults ${faults.length}, process faults ${watcher.faults.length}; ` +
      `events: ${events.splice(0).join(' | ') || 'none'}`,
  )
  summary.push({ p99, ratio, rss: rss.map((r) => r.toFixed(0)).join('/') })
  if (starved > 0) violate(`minute ${minute}: ${starved} clients connected all minute received no update`)
  if (ratio < 0.99) violate(`minute ${minute}: delivery ratio ${(ratio * 100).toFixed(2)}% < 99%`)
}

// ── invariants over the whole run ─────────────────────────────────────────
stopping = true
while (reconnecting > 0) await sleep(50)
for (const c of clients) {
  badPrices.push(...c.badPrices)
  seqBack += c.seqWentBack
  seqRepeated += c.seqRepeated
}
const log = everyNode
  .flatMap((n) => n.fake.requestsTo(TICKERS).map((r) => ({ at: r.at, node: n.proc.id })))
  .sort((a, b) => a.at - b.at)
let switches = 0
let overlaps = 0
for (let i = 1; i < log.length; i++) {
  if (log[i]!.node === log[i - 1]!.node) continue
  switches++
  // A real hand-over leaves a silence (a lease running out); two pollers at once alternate quickly.
  if (log[i]!.at - log[i - 1]!.at < TTL_MS / 2) overlaps++
}
const faults = cluster.faults(everyNode)
const rssEnd = slots.map((n) => rssOf(n.proc.pid))
if (badPrices.length) violate(`${badPrices.length} quotes with a bad price, e.g. ${badPrices[0]}`)
if (seqBack)
  violate(`seq did not go up ${seqBack} times on a connection (${seqRepeated} repeats of the same seq)`)
if (overlaps) violate(`${overlaps} poller switches without a silence: two pollers at once`)
if (faults.length) violate(`node faults: ${faults.slice(0, 3).join(' / ')}`)
if (watcher.faults.length) violate(`soak process faults: ${watcher.faults.slice(0, 3).join(' / ')}`)
if (rssEnd.some((r) => r > 2 * Math.max(...rssFirst) + 100))
  violate(
    `RSS grew from ${rssFirst.map((r) => r.toFixed(0)).join('/')} MB to ${rssEnd.map((r) => r.toFixed(0)).join('/')} MB`,
  )

console.log(
  `soak summary: ${minute} min, ${chaosRound} chaos events, ${log.length} ticker polls with ${switches} leader ` +
    `switches, ${overlaps} overlaps; worst p99 ${Math.max(...summary.map((s) => s.p99))} ms; lowest delivery ratio ` +
    `${(Math.min(...summary.map((s) => s.ratio)) * 100).toFixed(1)}%; RSS first/last minute ${rssFirst.map((r) => r.toFixed(0)).join('/')} → ` +
    `${rssEnd.map((r) => r.toFixed(0)).join('/')} MB; disconnects expected ${expectedDisconnects}, unexpected ${unexpectedDisconnects}; ` +
    `${violations.length} invariant violations`,
)
for (const c of clients) c.ws.terminate()
await cluster.close()
await redis.stop()
watcher.dispose()
process.exit(violations.length ? 1 : 0)
