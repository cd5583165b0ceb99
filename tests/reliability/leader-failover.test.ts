import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/quotes.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'
import { type Cluster, type ClusterNode, startCluster, TICKERS } from './cluster.js'
import { printFigure, sleep } from './figures.js'
import { type LiveClient, openClients } from './live-client.js'

/**
 * Scenario 2: three nodes on one Redis, kill -9 of the leader (twice: the new leader too).
 * Targets: a new leader polls within the lock TTL; the fakes' request logs never show two pollers
 * at once; clients on the surviving nodes keep receiving, without a disconnect.
 */

const TTL_MS = 1_500
const CLIENTS_PER_NODE = 50
const isLeaderLine = (l: { msg?: string }) => l.msg === 'this node is now the poller (leader)'

let redis: TestRedis
let cluster: Cluster
let nodes: ClusterNode[]

beforeAll(async () => {
  redis = await startRedis()
  cluster = await startCluster({
    assets: 3,
    redisUrl: redis.url,
    prefix: 'failover:',
    env: { PRICEWIRE_LEADER_TTL_MS: String(TTL_MS), PRICEWIRE_POLL_MS: '200' },
  })
  const first = await cluster.startNode('failover-1')
  await first.proc.waitForLog(isLeaderLine, 15_000)
  nodes = [first, ...(await Promise.all([cluster.startNode('failover-2'), cluster.startNode('failover-3')]))]
}, 90_000)

afterAll(async () => {
  await cluster?.close()
  await redis?.stop()
})

/** Every request any node made to its exchange, in time order, tagged with the node. */
function requestLog(from: number) {
  return nodes
    .flatMap((n) => n.fake.requests.map((r) => ({ at: r.at, node: n.proc.id, path: r.path })))
    .filter((r) => r.at >= from)
    .sort((x, y) => x.at - y.at)
}

/** Runs of consecutive requests by the same node: a hand-over is one new run, an overlap many. */
function runs(log: { node: string }[]): string[] {
  return log.map((r) => r.node).filter((node, i, all) => i === 0 || node !== all[i - 1])
}

describe('scenario 2: leader failover', { timeout: 120_000 }, () => {
  it('kill -9 of the leader, twice: a new leader polls within the TTL, never two at once, clients go on', async () => {
    const clients = new Map<ClusterNode, LiveClient[]>()
    for (const n of nodes) clients.set(n, await openClients(n.proc.wsUrl, CLIENTS_PER_NODE, cluster.assets))
    const all = () => [...clients.values()].flat()
    await waitFor(() => all().every((c) => c.quotes >= 3), 20_000, 100)
    const from = Date.now()
    const failovers: number[] = []
    let leader = nodes[0]!
    const alive = new Set(nodes)

    for (let round = 0; round < 2; round++) {
      await sleep(1_000)
      const survivors = [...alive].filter((n) => n !== leader)
      const seqBefore = Math.max(...all().map((c) => c.maxSeq()))
      await leader.proc.kill()
      const killedAt = Date.now()
      alive.delete(leader)
      const next = await waitFor(
        () => survivors.find((n) => n.fake.requests.some((r) => r.at >= killedAt)),
        TTL_MS + 15_000,
        10,
      )
      const firstRequest = Math.min(...next.fake.requests.filter((r) => r.at >= killedAt).map((r) => r.at))
      failovers.push(firstRequest - killedAt)
      await next.proc.waitForLog(isLeaderLine, 5_000)
      // Every client of the surviving nodes gets newer quotes from the new leader.
      const survivorClients = survivors.flatMap((n) => clients.get(n)!)
      for (const c of survivorClients) c.resumeAbove = seqBefore
      await waitFor(() => survivorClients.every((c) => c.resumedAt !== undefined), 15_000, 50)
      leader = next
    }

    const log = requestLog(from)
    const handOvers = runs(log)
    const survivorClients = [...alive].flatMap((n) => clients.get(n)!)
    const disconnects = survivorClients.filter((c) => !c.isOpen).length
    const faults = cluster.faults(nodes)
    const tickerPolls = log.filter((r) => r.path === TICKERS).length

    printFigure(
      'leader-failover',
      `3 nodes, TTL ${TTL_MS} ms, leader killed twice: new leader's first exchange request ` +
        `${failovers.join(' ms, ')} ms after the kill; request log ${log.length} requests (${tickerPolls} ticker polls) ` +
        `in ${handOvers.length} runs (${handOvers.join(' → ')}), 0 overlaps expected; ` +
        `${survivorClients.length} surviving clients, ${disconnects} disconnects; node faults ${faults.length}`,
    )
    // The lock lives one TTL after the old leader's last renewal (just before the kill at worst), plus scheduling.
    for (const ms of failovers) expect(ms).toBeLessThanOrEqual(TTL_MS + 250)
    // One run per leader: never two nodes interleaving requests.
    expect(handOvers).toEqual(['failover-1', handOvers[1], handOvers[2]])
    expect(new Set(handOvers).size).toBe(3)
    expect(disconnects).toBe(0)
    expect(survivorClients.reduce((n, c) => n + c.seqWentBack, 0)).toBe(0)
    expect(faults).toEqual([])
    for (const c of all()) c.ws.terminate()
  })
})
