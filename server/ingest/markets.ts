import type { QuoteCurrency, SourceId, Tick } from '../../shared/quote.js'
import type { AssetRegistry } from '../assets.js'
import type { MarketTick } from './aggregate.js'
import { STABLECOIN_MARKETS, type Stablecoin } from './stablecoins.js'

/** What a market of a source feeds: an asset of the registry, or a stablecoin rate. */
export type MarketTarget =
  | { kind: 'asset'; asset: string; quote: QuoteCurrency }
  | { kind: 'stable'; coin: Stablecoin }

/**
 * Which markets each source serves and what each one feeds. The simulated source serves every
 * asset under its id, in USD; exchanges serve the registry's markets plus the stablecoin markets.
 */
export class MarketIndex {
  private readonly bySource = new Map<SourceId, Map<string, MarketTarget[]>>()

  constructor(registry: AssetRegistry, sources: readonly SourceId[]) {
    for (const source of sources) {
      const markets = new Map<string, MarketTarget[]>()
      const add = (market: string, target: MarketTarget) =>
        markets.set(market, [...(markets.get(market) ?? []), target])
      if (source === 'simulated') {
        for (const id of registry.ids()) add(id, { kind: 'asset', asset: id, quote: 'USD' })
      } else {
        for (const asset of registry.assets) {
          for (const m of asset.markets) {
            if (m.source === source) add(m.symbol, { kind: 'asset', asset: asset.id, quote: m.quote })
          }
        }
        for (const s of STABLECOIN_MARKETS)
          if (s.source === source) add(s.market, { kind: 'stable', coin: s.coin })
      }
      this.bySource.set(source, markets)
    }
  }

  /** Every market name a source is asked for. */
  marketsOf(source: SourceId): string[] {
    return [...(this.bySource.get(source)?.keys() ?? [])]
  }

  targets(source: SourceId, market: string): readonly MarketTarget[] {
    return this.bySource.get(source)?.get(market) ?? []
  }

  /** The (source, market) pairs of an asset, in source order. */
  assetMarkets(asset: string): { source: SourceId; market: string; quote: QuoteCurrency }[] {
    const out: { source: SourceId; market: string; quote: QuoteCurrency }[] = []
    for (const [source, markets] of this.bySource) {
      for (const [market, targets] of markets) {
        for (const t of targets)
          if (t.kind === 'asset' && t.asset === asset) out.push({ source, market, quote: t.quote })
      }
    }
    return out
  }
}

/**
 * The latest tick per (source, market): the one table both polling and (later) exchange
 * WebSocket streams write into. Aggregation reads from it.
 */
export class TickTable {
  private readonly latest = new Map<string, Tick>()
  /** Markets whose held tick came from a live stream. */
  private readonly streamed = new Set<string>()

  /**
   * @param streamPrecedenceMs how long a streamed tick outranks polled ones for its market: a live
   *   stream is fresher than a poll by construction, so a reconciliation poll replaces a streamed
   *   tick only once the stream has been quiet on that market this long.
   */
  constructor(
    private readonly index: MarketIndex,
    private readonly streamPrecedenceMs = 0,
  ) {}

  /** Stores ticks (a newer one replaces an older one). Returns the assets whose inputs changed. */
  put(ticks: readonly Tick[], via: 'poll' | 'stream' = 'poll'): Set<string> {
    const changed = new Set<string>()
    for (const tick of ticks) {
      const targets = this.index.targets(tick.source, tick.market)
      if (targets.length === 0) continue
      const k = key(tick.source, tick.market)
      const prev = this.latest.get(k)
      if (prev && (prev.receivedAt > tick.receivedAt || olderReading(tick, prev))) continue
      if (
        via === 'poll' &&
        prev &&
        this.streamed.has(k) &&
        tick.receivedAt - prev.receivedAt < this.streamPrecedenceMs
      )
        continue
      this.latest.set(k, tick)
      if (via === 'stream') this.streamed.add(k)
      else this.streamed.delete(k)
      for (const t of targets) if (t.kind === 'asset') changed.add(t.asset)
    }
    return changed
  }

  forAsset(asset: string): MarketTick[] {
    const out: MarketTick[] = []
    for (const m of this.index.assetMarkets(asset)) {
      const tick = this.latest.get(key(m.source, m.market))
      if (tick) out.push({ tick, quote: m.quote })
    }
    return out
  }

  stablecoinTicks(): { coin: Stablecoin; tick: Tick }[] {
    const out: { coin: Stablecoin; tick: Tick }[] = []
    for (const s of STABLECOIN_MARKETS) {
      const tick = this.latest.get(key(s.source, s.market))
      if (tick) out.push({ coin: s.coin, tick })
    }
    return out
  }

  clear(): void {
    this.latest.clear()
    this.streamed.clear()
  }
}

/** Exchange clocks may run this far ahead of ours; a tick stamped further ahead does not outrank others. */
const CLOCK_SKEW_MS = 5_000

/**
 * A reading the exchange stamped before the one held (a REST reconciliation answer that left the
 * exchange before the last streamed push): it would move the price backwards, so it is not taken.
 */
function olderReading(tick: Tick, prev: Tick): boolean {
  return (
    tick.ts !== null && prev.ts !== null && tick.ts < prev.ts && prev.ts <= prev.receivedAt + CLOCK_SKEW_MS
  )
}

const key = (source: SourceId, market: string) => `${source}\u0000${market}`
