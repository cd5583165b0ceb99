import type { Logger } from 'pino'
import type { Engine } from '../engine/engine.js'
import type { Metrics } from '../metrics.js'

export interface LeaderOptions {
  engine: Engine
  /** Lock name, e.g. "poller". */
  name: string
  /** This node's id (config.nodeId). */
  owner: string
  ttlMs: number
  logger: Logger
  metrics: Metrics
  /** Called when this node becomes the leader. */
  onAcquire: () => void
  /** Called at once when leadership ends (lost, expired, engine error or stop). */
  onLose: (reason: string) => void
}

/**
 * The leader lease: only the node holding the engine's lock polls. The lock is taken with a TTL
 * and renewed every ttl/3. Leadership ends at once when a renewal says the lock is gone or fails,
 * and — so that two nodes never poll at once — also when the lease runs out locally without a
 * confirmed renewal: the local deadline is measured from when the last successful acquire/renew was
 * *sent* (the store's expiry can only be later) minus a safety margin, so this node has stopped
 * before any other node can take the lock.
 */
export class LeaderLease {
  private leader = false
  private validUntil = 0
  private interval: NodeJS.Timeout | undefined
  private deadline: NodeJS.Timeout | undefined
  /** A one-off try at the moment a held lock frees, sooner than the next regular one. */
  private retry: NodeJS.Timeout | undefined
  private busy = false
  private running = false
  private readonly marginMs: number

  constructor(private readonly opts: LeaderOptions) {
    this.marginMs = Math.min(1000, Math.floor(opts.ttlMs / 5))
  }

  /** True while this node holds a lease that has not run out. */
  isLeader(now = Date.now()): boolean {
    return this.leader && now < this.validUntil
  }

  /** Tries once at once (resolves after that attempt), then keeps trying/renewing every ttl/3. */
  async start(): Promise<void> {
    if (this.running) return
    this.running = true
    this.interval = setInterval(() => void this.tick(), this.intervalMs())
    await this.tick()
  }

  /** Gives up leadership and releases the lock. */
  async stop(): Promise<void> {
    this.running = false
    if (this.interval) clearInterval(this.interval)
    this.interval = undefined
    clearTimeout(this.retry)
    const was = this.leader
    this.lose('stopping')
    if (was) {
      await this.opts.engine.releaseLock(this.opts.name, this.opts.owner).catch((err: unknown) => {
        this.opts.logger.warn({ err }, 'could not release the poller lock (it expires by itself)')
      })
    }
  }

  private async tick(): Promise<void> {
    if (this.busy || !this.running) return
    this.busy = true
    const { engine, name, owner, ttlMs, logger } = this.opts
    const sentAt = Date.now()
    try {
      if (this.leader) {
        const ok = await engine.renewLock(name, owner, ttlMs)
        if (!this.running || !this.leader) return
        if (ok) this.extend(sentAt)
        else this.lose('the lock was lost')
      } else {
        const ok = await engine.acquireLock(name, owner, ttlMs)
        if (!ok) {
          await this.tryAgainWhenFree()
          return
        }
        if (!this.running) {
          await engine.releaseLock(name, owner)
          return
        }
        if (Date.now() >= sentAt + ttlMs - this.marginMs) return // answered too late to be safe
        this.leader = true
        this.extend(sentAt)
        this.opts.metrics.isLeader.set(1)
        logger.info({ owner }, 'this node is now the poller (leader)')
        this.opts.onAcquire()
      }
    } catch (err) {
      if (this.leader) this.lose(`lock renewal failed: ${err instanceof Error ? err.message : String(err)}`)
      else logger.debug({ err }, 'could not try the poller lock')
    } finally {
      this.busy = false
    }
  }

  /**
   * Regular tries come every ttl/3; when the lock frees before the next one, one more try is made
   * right then, so a new leader takes over when the old lease ends, not up to ttl/3 later.
   */
  private async tryAgainWhenFree(): Promise<void> {
    const { engine, name, ttlMs } = this.opts
    const freeInMs = await engine.lockFreeInMs(name, ttlMs)
    if (!this.running || freeInMs >= this.intervalMs() - 50) return
    clearTimeout(this.retry)
    this.retry = setTimeout(() => void this.tick(), freeInMs + 2)
  }

  private intervalMs(): number {
    return Math.max(50, Math.floor(this.opts.ttlMs / 3))
  }

  private extend(sentAt: number): void {
    this.validUntil = sentAt + this.opts.ttlMs - this.marginMs
    if (this.deadline) clearTimeout(this.deadline)
    this.deadline = setTimeout(
      () => this.lose('the lease ran out without a confirmed renewal'),
      Math.max(0, this.validUntil - Date.now()),
    )
  }

  private lose(reason: string): void {
    if (this.deadline) clearTimeout(this.deadline)
    this.deadline = undefined
    if (!this.leader) return
    this.leader = false
    this.validUntil = 0
    this.opts.metrics.isLeader.set(0)
    const log = reason === 'stopping' ? this.opts.logger.info : this.opts.logger.warn
    log.call(this.opts.logger, { reason }, `this node stopped polling: ${reason}`)
    this.opts.onLose(reason)
  }
}
