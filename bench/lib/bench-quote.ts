import type { Quote } from '../../shared/quote.js'

/**
 * The quote every fan-out contender carries: a valid Quote (it crosses the real bus codec), about
 * 300 bytes as JSON. updatedAt is the publish time, so receivers measure publish → receive latency.
 */
export function benchQuote(asset: string, seq: number, now: number): Quote {
  const price = 1 + (seq % 1000) / 10_000
  return {
    asset,
    symbol: asset.toUpperCase(),
    name: `Bench ${asset}`,
    currency: 'USD',
    price,
    change24h: 1.25,
    open24h: 0.99,
    high24h: 1.2,
    low24h: 0.95,
    volume24h: 12_345_678,
    marketCap: null,
    volatility24h: 3.1,
    sources: [],
    updatedAt: now,
    seq,
    stale: false,
    approximate: false,
    simulated: true,
  }
}

/** Client i subscribes to `perClient` consecutive assets starting at i: each asset gets N·perClient/assets subscribers. */
export function assetsOfClient(index: number, assets: readonly string[], perClient: number): string[] {
  return Array.from({ length: perClient }, (_, k) => assets[(index + k) % assets.length]!)
}
