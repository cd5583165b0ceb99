import type { Quote } from '../../shared/quote.js'
import type { Engine } from '../engine/engine.js'
import { isStale, withFreshness } from '../freshness.js'

/** Same asset, same update: a quote's seq is per asset and moves on with every change. */
function sameUpdate(a: Quote, b: Quote): boolean {
  return a.seq === b.seq && a.updatedAt === b.updatedAt && a.stale === b.stale && a.price === b.price
}

export interface QuoteViewSpec<P, V> {
  /** What a key asks for (e.g. the resolved asset ids of `pol,US`). May throw an ApiError; never cached then. */
  plan?(key: string): P
  ids(plan: P): readonly string[]
  /** Builds the representation from the quotes (freshness applied; undefined = no quote yet). May throw. */
  render(plan: P, quotes: readonly (Quote | undefined)[]): V
  /** Approximate memory of a view, for the cache's byte budget. */
  size(view: V): number
}

interface Entry<P, V> {
  plan: P
  ids: readonly string[]
  /** The mirror's quote objects the view was built from. */
  seen: (Quote | undefined)[]
  stale: boolean[]
  view: V
  bytes: number
}

/**
 * Representations (a JSON body and its ETag, an SVG badge) built from the engine's local mirror,
 * cached by request key. A view stays valid while every quote it was built from is still the
 * mirror's latest for its asset (same seq and time: the engine replaces the object on every
 * update) and its stale flag has not changed. A hit costs one mirror lookup per asset: no serialization, no hashing,
 * no zod. Bounded by bytes; the oldest entries go first.
 */
export class QuoteViewCache<P, V> {
  private readonly entries = new Map<string, Entry<P, V>>()
  private bytes = 0

  constructor(
    private readonly engine: Engine,
    private readonly staleMs: number,
    private readonly spec: QuoteViewSpec<P, V>,
    private readonly maxBytes = 8 * 1024 * 1024,
  ) {}

  /** The current view for key; `makePlan` (default: the spec's) runs only when the key is new. */
  get(key: string, makePlan?: (key: string) => P): V {
    const now = Date.now()
    const ready = this.engine.readiness().ready
    const entry = this.entries.get(key)
    if (entry && this.isCurrent(entry, now, ready)) return entry.view
    const plan = entry ? entry.plan : this.makePlan(key, makePlan)
    const ids = entry ? entry.ids : this.spec.ids(plan)
    const seen = ids.map((id) => this.engine.latest(id))
    const stale = seen.map((q) => (q ? isStale(q, now, this.staleMs, ready) : false))
    const quotes = seen.map((q) => (q ? withFreshness(q, now, this.staleMs, ready) : undefined))
    const view = this.spec.render(plan, quotes)
    this.store(key, { plan, ids, seen, stale, view, bytes: this.spec.size(view) + key.length * 2 + 200 })
    return view
  }

  private makePlan(key: string, given: ((key: string) => P) | undefined): P {
    const make = given ?? this.spec.plan
    if (!make) throw new Error(`QuoteViewCache: no plan for ${key}`)
    return make(key)
  }

  get size(): number {
    return this.entries.size
  }

  private isCurrent(entry: Entry<P, V>, now: number, ready: boolean): boolean {
    const { ids, seen, stale } = entry
    for (let i = 0; i < ids.length; i++) {
      const q = this.engine.latest(ids[i]!)
      const had = seen[i]
      if (q !== had) {
        // A new object for the same update (the Redis bus delivers a decoded copy of what this
        // node already had) leaves the representation as it was.
        if (!q || !had || !sameUpdate(q, had)) return false
        seen[i] = q
      }
      if (q !== undefined && isStale(q, now, this.staleMs, ready) !== stale[i]) return false
    }
    return true
  }

  private store(key: string, entry: Entry<P, V>): void {
    const old = this.entries.get(key)
    if (old) this.bytes -= old.bytes
    if (entry.bytes > this.maxBytes) {
      this.entries.delete(key)
      return
    }
    this.entries.set(key, entry)
    this.bytes += entry.bytes
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break
      this.entries.delete(k)
      this.bytes -= e.bytes
    }
  }
}
