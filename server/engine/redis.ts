import { Redis, type RedisOptions } from 'ioredis'
import type { Logger } from 'pino'
import { type HistoryPoint, Quote, RESOLUTION_RETENTION_MS, type Resolution } from '../../shared/quote.js'
import type { Metrics } from '../metrics.js'
import { decodeBatch, encodeBatch } from './bus-codec.js'
import type { BatchHandler, Engine, QuoteBatch, Readiness } from './engine.js'
import { type RedisKeys, redisKeys } from './redis-keys.js'
import { APPEND_HISTORY, RELEASE_LOCK, RENEW_LOCK } from './redis-scripts.js'

export interface RedisEngineOptions {
  url: string
  prefix: string
  logger: Logger
  metrics?: Metrics
}

type ScriptedRedis = Redis & {
  renewLock(key: string, owner: string, ttl: number): Promise<number>
  releaseLock(key: string, owner: string): Promise<number>
  appendHistory(key: string, ...args: (string | number)[]): Promise<number>
}

/**
 * Many nodes on one Redis. Commands go over one connection, the bus over a second one (a
 * subscribed connection can run nothing else). ioredis reconnects both and resubscribes by
 * itself. While Redis is down, reads are answered from the local mirror and writes fail fast
 * (no offline queue), so the process never blocks or crashes on it.
 */
export class RedisEngine implements Engine {
  readonly kind = 'redis' as const
  private readonly keys: RedisKeys
  private readonly cmd: ScriptedRedis
  private readonly sub: Redis
  private readonly mirror = new Map<string, Quote>()
  private version = 0
  private readonly handlers = new Set<BatchHandler>()
  private readonly log: Logger
  private lastError = 'not connected yet'
  /** The sub connection's SUBSCRIBE to the bus succeeded since it last (re)connected. */
  private busSubscribed = false
  private closed = false
  /** run_id of the Redis server last connected to, and when a different one was first seen. */
  private runId: string | undefined
  private restartSeenAt = 0
  private restartCheck: Promise<void> = Promise.resolve()
  /** The latest SUBSCRIBE attempt (never rejects). */
  private subscribing: Promise<void> = Promise.resolve()

  constructor(private readonly opts: RedisEngineOptions) {
    this.keys = redisKeys(opts.prefix)
    this.log = opts.logger.child({ component: 'redis-engine' })
    const common: RedisOptions = {
      lazyConnect: true,
      connectTimeout: 2_000,
      maxRetriesPerRequest: 0,
      // A Redis that accepts but stops answering must not hang a request or a snapshot.
      commandTimeout: 2_000,
      // Reconnect quickly and forever: an outage must end by itself.
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 500),
    }
    this.cmd = new Redis(opts.url, {
      ...common,
      enableOfflineQueue: false,
      connectionName: 'pricewire-cmd',
    }) as ScriptedRedis
    // The bus channel is subscribed on every 'ready' of this connection (see onReady), not by
    // ioredis's autoResubscribe: that only restores a subscription that once succeeded, so a node
    // started while Redis was down would never get the bus.
    this.sub = new Redis(opts.url, {
      ...common,
      enableOfflineQueue: true,
      autoResubscribe: false,
      connectionName: 'pricewire-sub',
    })
    this.cmd.defineCommand('renewLock', { numberOfKeys: 1, lua: RENEW_LOCK })
    this.cmd.defineCommand('releaseLock', { numberOfKeys: 1, lua: RELEASE_LOCK })
    this.cmd.defineCommand('appendHistory', { numberOfKeys: 1, lua: APPEND_HISTORY })
    for (const [name, conn] of [
      ['cmd', this.cmd],
      ['sub', this.sub],
    ] as const) {
      conn.on('error', (err: Error) => this.onConnectionError(name, err))
      conn.on('ready', () => this.onReady(name))
      conn.on('end', () => this.updateReadyMetric())
      conn.on('close', () => {
        if (conn === this.sub) this.busSubscribed = false
        this.updateReadyMetric()
      })
    }
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (channel.toString() === this.keys.bus) this.deliver(message)
    })
  }

  async start(): Promise<void> {
    await Promise.all([
      this.cmd.connect().catch((err: Error) => this.onConnectionError('cmd', err)),
      this.sub.connect().catch((err: Error) => this.onConnectionError('sub', err)),
    ])
    // Ready means subscribed to the bus too: wait for the first SUBSCRIBE (bounded by commandTimeout).
    await this.subscribing
  }

  async close(): Promise<void> {
    this.closed = true
    this.handlers.clear()
    this.sub.disconnect()
    await this.cmd.quit().catch(() => this.cmd.disconnect())
  }

  readiness(): Readiness {
    if (this.cmd.status === 'ready' && this.sub.status === 'ready' && this.busSubscribed)
      return { ready: true }
    return { ready: false, reason: `redis unreachable (${this.lastError})` }
  }

  async setQuotes(quotes: readonly Quote[]): Promise<void> {
    if (quotes.length === 0) return
    for (const q of quotes) this.remember(q)
    const args: string[] = []
    for (const q of quotes) args.push(this.keys.quote(q.asset), JSON.stringify(q))
    await this.guard('setQuotes', () => this.cmd.mset(args))
  }

  async getQuotes(assets: readonly string[]): Promise<(Quote | null)[]> {
    if (assets.length === 0) return []
    try {
      const raw = await this.cmd.mget(assets.map((a) => this.keys.quote(a)))
      return assets.map((asset, i) => {
        const stored = this.parseQuote(raw[i] ?? null)
        if (stored) this.remember(stored)
        // Never lose a quote already had: Redis may have restarted empty.
        return this.mirror.get(asset) ?? stored
      })
    } catch (err) {
      this.countError('getQuotes', err)
      return assets.map((a) => this.mirror.get(a) ?? null)
    }
  }

  latest(asset: string): Quote | undefined {
    return this.mirror.get(asset)
  }

  mirrorVersion(): number {
    return this.version
  }

  async appendHistory(asset: string, resolution: Resolution, points: readonly HistoryPoint[]): Promise<void> {
    if (points.length === 0) return
    const cutoff = Date.now() - RESOLUTION_RETENTION_MS[resolution]
    const args: (string | number)[] = [cutoff]
    for (const [ts, price] of points) args.push(ts, `${ts}:${price}`)
    await this.guard('appendHistory', () =>
      this.cmd.appendHistory(this.keys.history(asset, resolution), ...args),
    )
  }

  async readHistory(asset: string, resolution: Resolution, fromMs: number, toMs = Number.MAX_SAFE_INTEGER) {
    const members = await this.guard('readHistory', () =>
      this.cmd.zrangebyscore(this.keys.history(asset, resolution), fromMs, toMs),
    )
    const points: HistoryPoint[] = []
    for (const m of members) {
      const sep = m.indexOf(':')
      const ts = Number(m.slice(0, sep))
      const price = Number(m.slice(sep + 1))
      if (Number.isFinite(ts) && Number.isFinite(price) && price > 0) points.push([ts, price])
    }
    return points
  }

  async publish(batch: QuoteBatch): Promise<void> {
    for (const q of batch.quotes) this.remember(q)
    await this.guard('publish', () => this.cmd.publish(this.keys.bus, encodeBatch(batch)))
  }

  subscribe(handler: BatchHandler): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  async acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const key = this.keys.lock(name)
    // A Redis that restarted (without persistence) forgot the lock, but the node that held it may
    // still be inside its lease: no node takes a lock until a full TTL after it saw the restart.
    await this.restartCheck
    if (this.closed || Date.now() < this.restartSeenAt + ttlMs) return false
    if ((await this.guard('acquireLock', () => this.cmd.set(key, owner, 'PX', ttlMs, 'NX'))) === 'OK')
      return true
    // Already ours (e.g. a retry after a lost reply): extend it.
    return (await this.guard('acquireLock', () => this.cmd.renewLock(key, owner, ttlMs))) === 1
  }

  async lockFreeInMs(name: string, ttlMs: number): Promise<number> {
    await this.restartCheck
    const left = await this.guard('lockFreeInMs', () => this.cmd.pttl(this.keys.lock(name)))
    // pttl: -2 no key (free), -1 a key without expiry (not ours to guess: as long as a whole TTL).
    const held = left === -1 ? ttlMs : Math.max(0, left)
    return Math.max(held, this.restartSeenAt + ttlMs - Date.now())
  }

  async renewLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.guard('renewLock', () => this.cmd.renewLock(this.keys.lock(name), owner, ttlMs))) === 1
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    await this.guard('releaseLock', () => this.cmd.releaseLock(this.keys.lock(name), owner))
  }

  private deliver(message: Buffer): void {
    const batch = decodeBatch(message)
    if (!batch) {
      this.log.warn('dropped a malformed bus message')
      this.countError('bus-decode', undefined)
      return
    }
    for (const q of batch.quotes) this.remember(q)
    this.opts.metrics?.busLag.observe(Math.max(0, Date.now() - batch.publishedAt) / 1000)
    for (const h of this.handlers) {
      try {
        h(batch)
      } catch (err) {
        this.log.error({ err }, 'bus handler failed')
      }
    }
  }

  /** Keeps the newest quote per asset (by seq, then time): an old bus message never rolls it back. */
  private remember(q: Quote): void {
    const had = this.mirror.get(q.asset)
    if (!had || q.seq > had.seq || (q.seq === had.seq && q.updatedAt >= had.updatedAt)) {
      this.mirror.set(q.asset, q)
      this.version++
    }
  }

  private parseQuote(raw: string | null): Quote | null {
    if (raw === null) return null
    try {
      const parsed = Quote.safeParse(JSON.parse(raw))
      return parsed.success ? parsed.data : null
    } catch {
      return null
    }
  }

  private async onReady(name: 'cmd' | 'sub'): Promise<void> {
    this.updateReadyMetric()
    if (this.closed) return
    if (name === 'sub') {
      await this.subscribeBus()
      return
    }
    this.log.info('redis connected')
    this.restartCheck = this.checkForRestart()
    await this.loadAndRestoreMirror().catch((err) => this.countError('restoreMirror', err))
  }

  /** Notes when the Redis server behind the connection is a new one (its run_id changed). */
  private async checkForRestart(): Promise<void> {
    try {
      const info = await this.cmd.info('server')
      const runId = /^run_id:(\w+)/m.exec(info)?.[1]
      if (runId === undefined) return
      if (this.runId !== undefined && runId !== this.runId) {
        this.restartSeenAt = Date.now()
        this.log.warn(
          'redis restarted: locks are not taken for one lock TTL (a former holder may still be inside its lease)',
        )
      }
      this.runId = runId
    } catch (err) {
      this.countError('info', err)
    }
  }

  /** SUBSCRIBE to the bus; retried while the connection stays up but the command failed (a stalled Redis). */
  private subscribeBus(): Promise<void> {
    this.subscribing = this.trySubscribeBus()
    return this.subscribing
  }

  private async trySubscribeBus(): Promise<void> {
    try {
      await this.sub.subscribe(this.keys.bus)
      this.busSubscribed = true
      this.updateReadyMetric()
    } catch (err) {
      this.onConnectionError('sub', err as Error)
      const retry = setTimeout(() => {
        if (!this.closed && !this.busSubscribed && this.sub.status === 'ready') void this.subscribeBus()
      }, 1_000)
      retry.unref()
    }
  }

  /**
   * After (re)connecting: take what Redis has, and write back what only the mirror still has
   * (Redis may have restarted empty), so no node loses a quote it already had.
   */
  private async loadAndRestoreMirror(): Promise<void> {
    const keys: string[] = []
    let cursor = '0'
    do {
      const [next, batch] = await this.cmd.scan(cursor, 'MATCH', this.keys.quotePattern, 'COUNT', 500)
      cursor = next
      keys.push(...batch)
    } while (cursor !== '0')
    const stored = keys.length ? await this.cmd.mget(keys) : []
    const inRedis = new Set<string>()
    for (const raw of stored) {
      const q = this.parseQuote(raw)
      if (!q) continue
      inRedis.add(q.asset)
      this.remember(q)
    }
    const missing = [...this.mirror.values()].filter((q) => !inRedis.has(q.asset))
    if (missing.length) {
      const pipeline = this.cmd.pipeline()
      for (const q of missing) pipeline.set(this.keys.quote(q.asset), JSON.stringify(q), 'NX')
      await pipeline.exec()
      this.log.info({ restored: missing.length }, 'restored quotes from the local mirror into redis')
    }
  }

  private async guard<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      this.countError(op, err)
      throw err
    }
  }

  private countError(op: string, err: unknown): void {
    this.opts.metrics?.engineErrors.inc({ op })
    if (err instanceof Error) this.lastError = err.message
  }

  private onConnectionError(name: string, err: Error): void {
    const message = err.message || (err as { code?: string }).code || 'connection error'
    if (message !== this.lastError)
      this.log.warn({ connection: name, err: message }, 'redis connection error')
    this.lastError = message
    this.updateReadyMetric()
  }

  private updateReadyMetric(): void {
    this.opts.metrics?.engineReady.set({ engine: 'redis' }, this.readiness().ready ? 1 : 0)
  }
}
