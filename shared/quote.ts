import { z } from 'zod'

/** Adapter ids of the real exchanges, in the order they are polled. */
export const EXCHANGE_IDS = [
  'binance',
  'okx',
  'bybit',
  'mexc',
  'gate',
  'kucoin',
  'coinbase',
  'kraken',
] as const
/** Every data source: the exchanges, CoinGecko (market cap, supply, logo) and the demo-only simulator. */
export const SOURCE_IDS = [...EXCHANGE_IDS, 'coingecko', 'simulated'] as const

export const ExchangeId = z.enum(EXCHANGE_IDS)
export type ExchangeId = z.infer<typeof ExchangeId>
export const SourceId = z.enum(SOURCE_IDS)
export type SourceId = z.infer<typeof SourceId>

export const AssetId = z
  .string()
  .regex(/^[a-z0-9-]{1,40}$/, 'an asset id is 1-40 characters of lowercase a-z, 0-9 and -')
export type AssetId = z.infer<typeof AssetId>

export const QuoteCurrency = z.enum(['USD', 'USDT', 'USDC'])
export type QuoteCurrency = z.infer<typeof QuoteCurrency>

/** A price: finite and strictly positive. Anything else is a bad row, never a price. */
export const Price = z.number().finite().positive()
const Amount = z.number().finite().nonnegative()
const EpochMs = z.number().int().nonnegative()

/** One source's contribution to an aggregated quote. */
export const QuoteSource = z.object({
  source: SourceId,
  market: z.string(),
  price: Price,
  volume24h: Amount.nullable(),
  ts: EpochMs,
})
export type QuoteSource = z.infer<typeof QuoteSource>

/** The aggregated quote for one asset: the public contract of REST and WebSocket. */
export const Quote = z.object({
  asset: AssetId,
  symbol: z.string(),
  name: z.string(),
  currency: z.literal('USD'),
  price: Price,
  /** Percent change against the aggregated price 24 h ago. */
  change24h: z.number().finite().nullable(),
  open24h: Price.nullable(),
  high24h: Price.nullable(),
  low24h: Price.nullable(),
  /** USD volume over 24 h, summed across sources. */
  volume24h: Amount.nullable(),
  marketCap: Amount.nullable(),
  /** Standard deviation of 5-minute log returns over 24 h, scaled to one day, in percent. */
  volatility24h: z.number().finite().nonnegative().nullable(),
  sources: z.array(QuoteSource),
  updatedAt: EpochMs,
  /** Monotonic per asset. */
  seq: z.number().int().nonnegative(),
  stale: z.boolean(),
  /** A stablecoin quote was converted at 1:1 because no live USDT/USDC rate was known. */
  approximate: z.boolean(),
  simulated: z.boolean(),
})
export type Quote = z.infer<typeof Quote>

/** A tick: one source's view of one market at one moment. Prices in the market's quote currency. */
export const Tick = z.object({
  source: SourceId,
  /** The exchange's own market name, e.g. POLUSDT. */
  market: z.string(),
  last: Price,
  /** Only where the exchange's open is a rolling 24 h open (never Kraken's since-midnight `o`). */
  open24h: Price.nullable(),
  high24h: Price.nullable(),
  low24h: Price.nullable(),
  /** Percent (not fraction) change as the exchange reports it, for reference only. */
  changePercent24h: z.number().finite().nullable(),
  baseVolume: Amount.nullable(),
  quoteVolume: Amount.nullable(),
  /** Exchange timestamp in ms, or null where the exchange sends none. */
  ts: EpochMs.nullable(),
  /** When we received it, ms. */
  receivedAt: EpochMs,
})
export type Tick = z.infer<typeof Tick>

/** A history point: [epoch ms, price]. */
export const HistoryPoint = z.tuple([EpochMs, Price])
export type HistoryPoint = z.infer<typeof HistoryPoint>

export const HistoryWindow = z.enum(['24h', '7d'])
export type HistoryWindow = z.infer<typeof HistoryWindow>

export const Resolution = z.enum(['5m', '1h'])
export type Resolution = z.infer<typeof Resolution>

export const RESOLUTION_MS: Record<Resolution, number> = { '5m': 5 * 60_000, '1h': 60 * 60_000 }
/** How long each resolution is kept: its window plus a margin, so the point 24 h (7 d) ago is still there. */
export const RESOLUTION_RETENTION_MS: Record<Resolution, number> = {
  '5m': 25 * 3_600_000,
  '1h': (7 * 24 + 2) * 3_600_000,
}
export const WINDOW_MS: Record<HistoryWindow, number> = { '24h': 24 * 3_600_000, '7d': 7 * 24 * 3_600_000 }
export const WINDOW_RESOLUTION: Record<HistoryWindow, Resolution> = { '24h': '5m', '7d': '1h' }
