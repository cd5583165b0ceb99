import type { HistoryPoint, Quote, Resolution } from '../../shared/quote.js'

/** A closed (or updated) history point, carried on the bus so every node can push it to its clients. */
export interface HistoryUpdate {
  asset: string
  resolution: Resolution
  point: HistoryPoint
}

/** What the leader publishes once per ingest cycle; every node, the leader included, receives it. */
export interface QuoteBatch {
  /** Node id of the publisher. */
  origin: string
  /** Epoch ms at publish time: lets receivers measure bus lag. */
  publishedAt: number
  quotes: Quote[]
  history: HistoryUpdate[]
}

export type BatchHandler = (batch: QuoteBatch) => void

export type Readiness = { ready: true } | { ready: false; reason: string }

/**
 * Storage and messaging for quotes: latest quote per asset, price history, the bus between
 * nodes and the leader lock. Two implementations share one contract test suite:
 * memory (one node, the embedded default) and Redis (many nodes).
 *
 * Every engine keeps a local mirror of the latest quotes (`latest`), kept current by its own
 * writes and by the bus, so reads on the hot path never wait on the network.
 */
export interface Engine {
  readonly kind: 'memory' | 'redis'

  /** Connects and loads the mirror. Resolves even when the store is down (the engine then reports not-ready). */
  start(): Promise<void>
  close(): Promise<void>
  readiness(): Readiness

  /** Writes the latest quotes (one round trip) and updates the mirror. */
  setQuotes(quotes: readonly Quote[]): Promise<void>
  /** Reads the latest quotes from the store in one round trip; answers from the mirror when the store is down. */
  getQuotes(assets: readonly string[]): Promise<(Quote | null)[]>
  /** The mirror's latest quote for an asset: synchronous, never touches the network. */
  latest(asset: string): Quote | undefined
  /**
   * A number that grows whenever the mirror takes a new quote object, so a reader that built
   * something from `latest` can tell in one comparison that nothing has changed since.
   */
  mirrorVersion(): number

  /** Adds points to an asset's history at a resolution; a point at an existing timestamp replaces it. Trimmed by age. */
  appendHistory(asset: string, resolution: Resolution, points: readonly HistoryPoint[]): Promise<void>
  /** Points with fromMs <= ts <= toMs, oldest first. */
  readHistory(asset: string, resolution: Resolution, fromMs: number, toMs?: number): Promise<HistoryPoint[]>

  /** Publishes a batch to every node's subscribers, and updates the local mirror. */
  publish(batch: QuoteBatch): Promise<void>
  /** Registers a handler for every batch published by any node. Returns an unsubscribe function. */
  subscribe(handler: BatchHandler): () => void

  /** Takes the named lock for `owner` when free. True when owner holds it afterwards. */
  acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean>
  /**
   * How long until the named lock can be taken (0: now), for a caller that just failed to take it
   * and wants to try again the moment it frees rather than at its next regular try.
   */
  lockFreeInMs(name: string, ttlMs: number): Promise<number>
  /** Extends the lock when `owner` still holds it. False when it was lost. */
  renewLock(name: string, owner: string, ttlMs: number): Promise<boolean>
  releaseLock(name: string, owner: string): Promise<void>
}
