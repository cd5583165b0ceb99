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
  /** The engine's mirror version and readiness when the view was last found current. */
  version: number
  ready: boolean
  /** Until when (ms) every quote fresh at that time stays fresh. */
  freshUntil: number
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
    const version = this.engine.mirrorVersion()
    const entry = this.entries.get(key)
    if (entry && this.isCurrent(entry, now, ready, version)) return entry.view
    const plan = entry ? entry.plan : this.makePlan(key, makePlan)
    const ids = entry ? entry.ids : this.spec.ids(plan)
    const seen = ids.map((id) => this.engine.latest(id))
    const stale = seen.map((q) => (q ? isStale(q, now, this.staleMs, ready) : false))
    const quotes = seen.map((q) => (q ? withFreshness(q, now, this.staleMs, ready) : undefined))
    const view = this.spec.render(plan, quotes)
    const bytes = this.spec.size(view) + key.length * 2 + 200
    const freshUntil = this.freshUntil(seen, stale)
    this.store(key, { plan, ids, seen, stale, view, bytes, version, ready, freshUntil })
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

  /**
   * One comparison when the mirror has not changed since the view was checked (the common case on
   * a busy read path), else a look at each of its quotes.
   */
  private isCurrent(entry: Entry<P, V>, now: number, ready: boolean, version: number): boolean {
    if (entry.version === version && entry.ready === ready && now <= entry.freshUntil) return true
    if (!this.quotesUnchanged(entry, now, ready)) return false
    entry.version = version
    entry.ready = ready
    entry.freshUntil = this.freshUntil(entry.seen, entry.stale)
    return true
  }

  private freshUntil(seen: readonly (Quote | undefined)[], stale: readonly boolean[]): number {
    let until = Number.POSITIVE_INFINITY
    for (let i = 0; i < seen.length; i++) {
      const q = seen[i]
      if (q !== undefined && !stale[i]) until = Math.min(until, q.updatedAt + this.staleMs)
    }
    return until
  }

  private quotesUnchanged(entry: Entry<P, V>, now: number, ready: boolean): boolean {
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
