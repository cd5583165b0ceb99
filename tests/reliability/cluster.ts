import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AssetRegistryFile } from '../../shared/asset.js'
import type { FakeExchange } from '../helpers/fake-exchange.js'
import { type NodeProcess, startNodeProcess } from '../helpers/node-process.js'
import { binanceFake, type Venue, venue } from '../integration/ingest-exchanges.js'

/**
 * Real server processes for the reliability scenarios. Every node polls its own fake Binance, all
 * over the same moving market state, so a fake's request log says which node polled and when.
 */

export const TICKERS = '/api/v3/ticker/24hr'

export interface ClusterNode {
  proc: NodeProcess
  fake: FakeExchange
}

export interface Cluster {
  market: Venue
  assets: string[]
  registryFile: string
  startNode(id: string, env?: Record<string, string>): Promise<ClusterNode>
  /** Faults and crashes the node processes reported in their logs (unhandled errors, fatal lines). */
  faults(nodes: readonly ClusterNode[]): string[]
  close(): Promise<void>
}

/** n assets (a0…), each on one Binance market whose price moves every 50 ms around 1 + i. */
export function clusterRegistry(n: number): AssetRegistryFile {
  return {
    assets: Array.from({ length: n }, (_, i) => ({
      id: `a${i}`,
      symbol: `A${i}`,
      name: `Asset ${i}`,
      markets: [{ source: 'binance' as const, symbol: `A${i}USDT`, quote: 'USDT' as const }],
    })),
  }
}

export async function startCluster(opts: {
  assets: number
  redisUrl?: string
  prefix?: string
  env?: Record<string, string>
}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'pricewire-reliability-'))
  const registryFile = join(dir, 'assets.json')
  const registry = clusterRegistry(opts.assets)
  writeFileSync(registryFile, JSON.stringify(registry))
  const market = venue(
    Object.fromEntries(registry.assets.map((_, i) => [`A${i}USDT`, { price: 1 + i, baseVolume: 1_000_000 }])),
  )
  let step = 0
  const mover = setInterval(() => {
    step++
    let i = 0
    for (const m of market.markets.values()) m.price = (1 + i++) * (1 + ((step % 50) - 25) / 10_000)
  }, 50)
  const started: ClusterNode[] = []
  return {
    market,
    assets: registry.assets.map((a) => a.id),
    registryFile,
    async startNode(id, env = {}) {
      const fake = await binanceFake(market).start()
      const proc = await startNodeProcess({
        id,
        env: {
          ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}),
          PRICEWIRE_REDIS_PREFIX: opts.prefix ?? 'rel:',
          PRICEWIRE_ASSETS_FILE: registryFile,
          PRICEWIRE_SOURCES: 'binance',
          PRICEWIRE_SOURCE_URL_BINANCE: fake.url,
          PRICEWIRE_STREAMS: 'off',
          PRICEWIRE_POLL_MS: '200',
          PRICEWIRE_LEADER_TTL_MS: '1500',
          PRICEWIRE_REQUEST_TIMEOUT_MS: '1000',
          PRICEWIRE_STALE_MS: '30000',
          PRICEWIRE_SHUTDOWN_MS: '3000',
          PRICEWIRE_WS_MAX_PER_IP: '0',
          LOG_LEVEL: 'info',
          ...opts.env,
          ...env,
        },
        readyTimeoutMs: 40_000,
      })
      const node = { proc, fake }
      started.push(node)
      return node
    },
    faults(nodes) {
      const out: string[] = []
      for (const { proc } of nodes) {
        for (const line of proc.logs) {
          const text = `${line.msg ?? ''} ${JSON.stringify(line.err ?? '')}`
          if (
            (typeof line.level === 'number' && line.level >= 60) ||
            /unhandled|uncaught|shutting down after an error/i.test(text)
          )
            out.push(`${proc.id}: ${text.slice(0, 300)}`)
        }
        const stderr = proc.stderr()
        if (/unhandled|uncaught|TypeError|RangeError|ReferenceError/i.test(stderr))
          out.push(`${proc.id} stderr: ${stderr.slice(-500)}`)
      }
      return out
    },
    async close() {
      clearInterval(mover)
      await Promise.all(started.map((n) => n.proc.kill()))
      await Promise.all(started.map((n) => n.fake.stop()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Error-level lines of a node's log (pino level ≥ 50), for the figure. */
export function errorLines(node: ClusterNode): string[] {
  return node.proc.logs
    .filter((l) => typeof l.level === 'number' && l.level >= 50)
    .map((l) => String(l.msg ?? ''))
}
