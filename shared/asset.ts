import { z } from 'zod'
import { AssetId, ExchangeId, QuoteCurrency } from './quote.js'

/** Where an asset trades on one exchange. `symbol` is the exchange's own market name. */
export const AssetMarket = z.object({
  source: ExchangeId,
  symbol: z.string().min(1).max(64),
  quote: QuoteCurrency,
})
export type AssetMarket = z.infer<typeof AssetMarket>

export const Asset = z.object({
  id: AssetId,
  symbol: z.string().min(1).max(20),
  name: z.string().min(1).max(80),
  coingeckoId: z.string().min(1).max(100).optional(),
  circulatingSupply: z.number().finite().positive().optional(),
  logo: z.string().url().optional(),
  markets: z.array(AssetMarket),
})
export type Asset = z.infer<typeof Asset>

/** The registry file format (PRICEWIRE_ASSETS_FILE): a public contract. */
export const AssetRegistryFile = z.object({ assets: z.array(Asset).min(1) })
export type AssetRegistryFile = z.infer<typeof AssetRegistryFile>

/** What GET /v1/assets lists for each asset. */
export const AssetInfo = z.object({
  id: AssetId,
  symbol: z.string(),
  name: z.string(),
  sources: z.array(z.string()),
  logo: z.string().nullable(),
})
export type AssetInfo = z.infer<typeof AssetInfo>
