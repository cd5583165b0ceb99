import type { ExchangeId, Tick } from '../../shared/quote.js'

export type Stablecoin = 'USDT' | 'USDC'

/** Live USD value of one unit of each stablecoin; null when no fresh rate is known. */
export type StableRates = Record<Stablecoin, number | null>

export const NO_RATES: StableRates = { USDT: null, USDC: null }

/**
 * The markets that price the stablecoins themselves in USD. Kept here rather than in the asset
 * registry: they are inputs of the conversion, not assets clients can ask for, and the public
 * registry format (/v1/assets) stays free of internal entries. Kraken markets are named by altname
 * (its adapter's convention: USDTZUSD's altname is USDTUSD). Coinbase Exchange has no USDC-USD book
 * (USDC converts 1:1 to USD there), so USDC comes from Kraken only.
 * They ride along in the same one fetchTickers call per source and pass the same market-list check.
 */
export const STABLECOIN_MARKETS: readonly { coin: Stablecoin; source: ExchangeId; market: string }[] = [
  { coin: 'USDT', source: 'kraken', market: 'USDTUSD' },
  { coin: 'USDC', source: 'kraken', market: 'USDCUSD' },
  { coin: 'USDT', source: 'coinbase', market: 'USDT-USD' },
]

/** A live rate outside this band is a bad print (or a collapse no 1:1 fallback would fix either). */
const SANE_RATE = { min: 0.5, max: 1.5 }

/** The USD rate of each stablecoin: median of its fresh, sane ticks; null when there are none. */
export function stablecoinRates(
  ticks: readonly { coin: Stablecoin; tick: Tick }[],
  now: number,
  staleMs: number,
): StableRates {
  const rates: StableRates = { USDT: null, USDC: null }
  for (const coin of ['USDT', 'USDC'] as const) {
    const prices = ticks
      .filter((t) => t.coin === coin && now - tickTime(t.tick) <= staleMs)
      .map((t) => t.tick.last)
      .filter((p) => Number.isFinite(p) && p >= SANE_RATE.min && p <= SANE_RATE.max)
    rates[coin] = prices.length > 0 ? median(prices) : null
  }
  return rates
}

/**
 * When a tick was true: the exchange's timestamp, else when we received it. Never later than
 * receipt, so an exchange clock running ahead cannot keep a dead source "fresh".
 */
export function tickTime(tick: Pick<Tick, 'ts' | 'receivedAt'>): number {
  return Math.min(tick.ts ?? tick.receivedAt, tick.receivedAt)
}

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}
