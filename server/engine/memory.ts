import {
  type HistoryPoint,
  type Quote,
  RESOLUTION_RETENTION_MS,
  type Resolution,
} from '../../shared/quote.js'
import type { BatchHandler, Engine, QuoteBatch, Readiness } from './engine.js'
import { mergeHistory } from './history-points.js'

/** The embedded default: one node, everything in this process. */
export class MemoryEngine implements Engine {
  readonly kind = 'memory' as const
  private readonly quotes = new Map<string, Quote>()
  private version = 0
  private readonly history = new Map<string, HistoryPoint[]>()
  private readonly handlers = new Set<BatchHandler>()
  private readonly locks = new Map<string, { owner: string; expiresAt: number }>()

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.handlers.clear()
  }

  readiness(): Readiness {
    return { ready: true }
  }

  async setQuotes(quotes: readonly Quote[]): Promise<void> {
    this.remember(quotes)
  }

  async getQuotes(assets: readonly string[]): Promise<(Quote | null)[]> {
    return assets.map((a) => this.quotes.get(a) ?? null)
  }

  latest(asset: string): Quote | undefined {
    return this.quotes.get(asset)
  }

  mirrorVersion(): number {
    return this.version
  }

  private remember(quotes: readonly Quote[]): void {
    for (const q of quotes) this.quotes.set(q.asset, q)
    if (quotes.length > 0) this.version++
  }

  async appendHistory(asset: string, resolution: Resolution, points: readonly HistoryPoint[]): Promise<void> {
    const key = `${asset}|${resolution}`
    const cutoff = Date.now() - RESOLUTION_RETENTION_MS[resolution]
    this.history.set(key, mergeHistory(this.history.get(key) ?? [], points, cutoff))
  }

  async readHistory(asset: string, resolution: Resolution, fromMs: number, toMs = Number.MAX_SAFE_INTEGER) {
    const points = this.history.get(`${asset}|${resolution}`) ?? []
    return points.filter(([ts]) => ts >= fromMs && ts <= toMs)
  }

  async publish(batch: QuoteBatch): Promise<void> {
    this.remember(batch.quotes)
    // Delivered asynchronously, as over Redis, so a publisher never re-enters its own handlers.
    queueMicrotask(() => {
      for (const h of this.handlers) h(batch)
    })
  }

  subscribe(handler: BatchHandler): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  async acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = Date.now()
    const held = this.locks.get(name)
    if (held && held.expiresAt > now && held.owner !== owner) return false
    this.locks.set(name, { owner, expiresAt: now + ttlMs })
    return true
  }

  async lockFreeInMs(name: string): Promise<number> {
    const held = this.locks.get(name)
    return held ? Math.max(0, held.expiresAt - Date.now()) : 0
  }

  async renewLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const held = this.locks.get(name)
    if (!held || held.owner !== owner || held.expiresAt <= Date.now()) return false
    held.expiresAt = Date.now() + ttlMs
    return true
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    if (this.locks.get(name)?.owner === owner) this.locks.delete(name)
  }
}
