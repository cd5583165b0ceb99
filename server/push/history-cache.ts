import { type HistoryWindow, WINDOW_MS, WINDOW_RESOLUTION } from '../../shared/quote.js'
import type { Engine } from '../engine/engine.js'

interface Entry {
  /** The points as a JSON array, or null when they could not be read. */
  json: Promise<string | null>
  expiresAt: number
}

/**
 * Serialised history windows for snapshots, shared by every connection that subscribes within a
 * short time (a reconnect storm reads each asset's window once, not once per client). A closed
 * point arriving on the bus drops the cached window of that asset at once.
 */
export class HistoryCache {
  private readonly entries = new Map<string, Entry>()

  constructor(
    private readonly engine: Engine,
    private readonly ttlMs = 5_000,
  ) {}

  /** The window's points as JSON, or null when the store cannot be read right now. */
  get(asset: string, window: HistoryWindow, now = Date.now()): Promise<string | null> {
    const key = `${asset}|${window}`
    const hit = this.entries.get(key)
    if (hit && hit.expiresAt > now) return hit.json
    const json = this.engine
      .readHistory(asset, WINDOW_RESOLUTION[window], now - WINDOW_MS[window])
      .then((points) => JSON.stringify(points))
      .catch(() => {
        if (this.entries.get(key)?.json === json) this.entries.delete(key)
        return null
      })
    this.entries.set(key, { json, expiresAt: now + this.ttlMs })
    return json
  }

  /** A new point of this resolution arrived for the asset. */
  invalidate(asset: string, window: HistoryWindow): void {
    this.entries.delete(`${asset}|${window}`)
  }

  clear(): void {
    this.entries.clear()
  }
}
