import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HistoryResponse } from '../../shared/api.js'
import { RESOLUTION_MS } from '../../shared/quote.js'
import { waitFor } from '../helpers/quotes.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import { type Cluster, type ClusterNode, startCluster } from './cluster.js'
import { percentile, printFigure, sleep } from './figures.js'
import { type LiveClient, openClients } from './live-client.js'

/**
 * Scenario 1: kill -9 and restart redis-server under two live nodes with 500 stream clients.
 * Targets: no disconnect caused by it, updates resume ≤ 3 s after Redis is back, REST 200
 * (stale-flagged) throughout, no history gap beyond the outage.
 */

const CLIENTS = 500
const OUTAGE_MS = 3_000
const TTL_MS = 1_000

let redis: TestRedis
let cluster: Cluster
let a: ClusterNode
let b: ClusterNode

beforeAll(async () => {
  redis = await startRedis()
  cluster = await startCluster({
    assets: 3,
    redisUrl: redis.url,
    env: { PRICEWIRE_LEADER_TTL_MS: String(TTL_MS), PRICEWIRE_POLL_MS: '200' },
  })
  a = await cluster.startNode('outage-a')
  await a.proc.waitForLog((l) => l.msg === 'this node is now the poller (leader)', 15_000)
  b = await cluster.startNode('outage-b')
}, 90_000)

afterAll(async () => {
  await cluster?.close()
  await redis?.stop()
})

interface RestSample {
  node: string
  at: number
  status: number
  stale: boolean | undefined
}

/** Polls REST on every node every 100 ms until stopped. */
function pollRest(nodes: ClusterNode[]) {
  const samples: RestSample[] = []
  let running = true
  const loops = nodes.map(async (n) => {
    while (running) {
      const at = Date.now()
      try {
        const res = await fetch(`${n.proc.url}/v1/quotes?assets=a0`, { signal: AbortSignal.timeout(3_000) })
        const body = (await res.json()) as { data?: { stale: boolean }[] }
        samples.push({ node: n.proc.id, at, status: res.status, stale: body.data?.[0]?.stale })
      } catch (err) {
        samples.push({ node: n.proc.id, at, status: 0, stale: undefined })
        void err
      }
      await sleep(100)
    }
  })
  return {
    samples,
    stop: async () => {
      running = false
      await Promise.all(loops)
    },
  }
}

describe('scenario 1: Redis outage under live streaming', { timeout: 120_000 }, () => {
  it('500 clients stay connected, REST stays 200 (stale), updates resume ≤ 3 s, history has no gap', async () => {
    const clients: LiveClient[] = [
      ...(await openClients(a.proc.wsUrl, CLIENTS / 2, cluster.assets)),
      ...(await openClients(b.proc.wsUrl, CLIENTS / 2, cluster.assets)),
    ]
    await waitFor(() => clients.every((c) => c.quotes >= 4 && c.maxSeq() > 0), 20_000, 100)
    const rest = pollRest([a, b])
    await sleep(500)

    await redis.kill()
    const killedAt = Date.now()
    await sleep(OUTAGE_MS)
    const seqAtRestart = Math.max(...clients.map((c) => c.maxSeq()))
    for (const c of clients) c.resumeAbove = seqAtRestart
    await redis.restart()
    const backAt = Date.now()
    await waitFor(() => clients.every((c) => c.resumedAt !== undefined || !c.isOpen), 20_000, 50)
    const resumeMs = clients.map((c) => (c.resumedAt ?? Number.POSITIVE_INFINITY) - backAt)
    await waitFor(
      async () =>
        (await Promise.all([a, b].map((n) => fetch(`${n.proc.url}/readyz`)))).every((r) => r.status === 200),
      10_000,
    )
    await sleep(500)
    await rest.stop()

    const disconnects = clients.filter((c) => !c.isOpen).length
    const during = rest.samples.filter((s) => s.at >= killedAt + 300 && s.at < backAt)
    const non200 = rest.samples.filter((s) => s.status !== 200)
    const staleDuring = during.filter((s) => s.stale === true).length

    // History: a 5-minute series with no missing bucket, up to the current one.
    const history = HistoryResponse.parse(
      await (await fetch(`${b.proc.url}/v1/history/a0?window=24h`)).json(),
    ).points
    const step = RESOLUTION_MS['5m']
    let gaps = 0
    for (let i = 1; i < history.length; i++) if (history[i]![0] - history[i - 1]![0] !== step) gaps++
    const currentBucket = Math.floor(Date.now() / step) * step
    const faults = cluster.faults([a, b])

    printFigure(
      'redis-outage',
      `${CLIENTS} clients, Redis down ${OUTAGE_MS} ms: ${disconnects} disconnects; updates resumed ` +
        `p50 ${percentile(resumeMs, 50)} ms / max ${Math.max(...resumeMs)} ms after Redis came back; ` +
        `REST ${rest.samples.length - non200.length}/${rest.samples.length} 200, ${staleDuring}/${during.length} stale during the outage; ` +
        `history ${history.length} points, ${gaps} gaps; node faults ${faults.length}`,
    )
    expect(disconnects).toBe(0)
    expect(Math.max(...resumeMs)).toBeLessThanOrEqual(3_000)
    expect(non200).toEqual([])
    expect(during.length).toBeGreaterThan(10)
    expect(staleDuring).toBe(during.length)
    expect(clients.reduce((n, c) => n + c.seqWentBack, 0)).toBe(0)
    expect(clients.flatMap((c) => c.badPrices)).toEqual([])
    expect(history.length).toBeGreaterThanOrEqual(280)
    expect(gaps).toBe(0)
    expect(history.at(-1)![0]).toBe(currentBucket)
    expect(faults).toEqual([])
    for (const c of clients) c.ws.terminate()
  })
})
