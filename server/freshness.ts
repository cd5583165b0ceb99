import type { Quote } from '../shared/quote.js'

/**
 * Whether clients must see a quote as stale right now: the leader marked it so, it has not been
 * updated within the freshness limit, or this node cannot reach its store (Redis down).
 * REST and WebSocket snapshots both use this, so they never disagree.
 */
export function isStale(quote: Quote, now: number, staleMs: number, engineReady: boolean): boolean {
  return quote.stale || !engineReady || now - quote.updatedAt > staleMs
}

/** The quote with its stale flag as of now; the same object when nothing changes. */
export function withFreshness(quote: Quote, now: number, staleMs: number, engineReady: boolean): Quote {
  const stale = isStale(quote, now, staleMs, engineReady)
  return stale === quote.stale ? quote : { ...quote, stale }
}
