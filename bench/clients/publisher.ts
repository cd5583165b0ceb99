import { Redis } from 'ioredis'
import { encodeBatch } from '../../server/engine/bus-codec.js'
import type { QuoteBatch } from '../../server/engine/engine.js'
import { benchQuote } from '../lib/bench-quote.js'
import { onCommand, reply } from '../lib/ipc.js'

/**
 * Publisher child for the fan-out benchmark: plays the leader node, publishing one QuoteBatch per
 * update on `${prefix}bus` exactly as RedisEngine.publish does (PUBLISH of encodeBatch). It can also
 * hold the ingest leader lock so the server under test stays a follower that only relays the bus.
 * Seq is one counter across assets (so monotonic per asset), starting high so a stray quote from
 * anywhere else is never counted.
 */
let redis: Redis | undefined
let channel = ''
let assets: string[] = []
let seq = 1_000_000_000
const locks = new Map<string, NodeJS.Timeout>()

onCommand(async (c) => {
  switch (c.cmd) {
    case 'init': {
      redis = new Redis(String(c.redisUrl), { lazyConnect: true, maxRetriesPerRequest: 1 })
      await redis.connect()
      channel = String(c.channel)
      assets = c.assets as string[]
      reply('init-done')
      return
    }
    case 'hold-lock': {
      const key = String(c.key)
      const ttl = Number(c.ttlMs)
      const take = () => redis!.set(key, 'bench-publisher', 'PX', ttl)
      await take()
      clearInterval(locks.get(key))
      locks.set(
        key,
        setInterval(() => void take().catch(() => {}), Math.max(100, ttl / 3)),
      )
      reply('lock-held')
      return
    }
    case 'next-seq':
      reply('next-seq', { seq: seq + 1 })
      return
    case 'run': {
      const result = await publishFor(Number(c.ratePerSec), Number(c.durationMs))
      reply('run-done', result)
      return
    }
  }
})

/** Publishes ratePerSec updates, round-robin over the assets, on a fixed schedule (no drift). */
async function publishFor(ratePerSec: number, durationMs: number) {
  const intervalMs = 1000 / ratePerSec
  const total = Math.round((durationMs / 1000) * ratePerSec)
  const perAsset: Record<string, number> = {}
  const fromSeq = seq + 1
  const start = performance.now()
  let maxLagMs = 0
  for (let i = 0; i < total; i++) {
    const due = start + i * intervalMs
    const wait = due - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    maxLagMs = Math.max(maxLagMs, performance.now() - due)
    const asset = assets[i % assets.length]!
    const now = Date.now()
    const batch: QuoteBatch = {
      origin: 'bench-publisher',
      publishedAt: now,
      quotes: [benchQuote(asset, ++seq, now)],
      history: [],
    }
    await redis!.publish(channel, encodeBatch(batch))
    perAsset[asset] = (perAsset[asset] ?? 0) + 1
  }
  return { fromSeq, toSeq: seq, perAsset, published: total, maxLagMs, wallMs: performance.now() - start }
}

reply('ready')
