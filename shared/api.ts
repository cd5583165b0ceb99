import { z } from 'zod'
import { AssetInfo } from './asset.js'
import { AssetId, HistoryPoint, HistoryWindow, Quote, Resolution } from './quote.js'

/**
 * The REST contract (/v1): request and response schemas. Fastify validates requests with them
 * and @fastify/swagger derives the OpenAPI document from them, so types, validation and docs
 * have one source.
 */

/** How many assets one GET /v1/quotes may name. */
export const MAX_ASSETS_PER_REQUEST = 100

/** One asset reference in a URL: an id (pol, talus) or a symbol that names exactly one asset (US → talus). */
const REF = '[A-Za-z0-9._-]{1,40}'
export const ASSET_REF_RE = new RegExp(`^${REF}$`)
/** A comma list of references, no spaces, no empty items. */
export const ASSET_LIST_RE = new RegExp(`^${REF}(?:,${REF})*$`)
/** The longest `assets` list value accepted. */
export const MAX_ASSET_LIST_CHARS = 8192

export const AssetRef = z
  .string()
  .regex(ASSET_REF_RE, 'an asset id (1-40 characters of a-z, 0-9 and -) or an unambiguous symbol')
  .describe(
    'A registry id (`pol`, `talus`), matched case-insensitively, or a symbol (`US`) where exactly one asset has it.',
  )

export const AssetParams = z.object({ asset: AssetRef })

export const QuotesQuery = z.object({
  assets: z
    .string()
    .max(MAX_ASSET_LIST_CHARS)
    .regex(ASSET_LIST_RE, 'a comma list of asset ids or symbols, without spaces')
    .describe(
      `Comma list of up to ${MAX_ASSETS_PER_REQUEST} asset ids (or unambiguous symbols), e.g. \`pol,talus\`. ` +
        'Unknown ones are listed in `missing`; repeats are answered once.',
    ),
})

export const HistoryQuery = z.object({
  window: HistoryWindow.default('24h').describe('24h → 5-minute points, 7d → 1-hour points.'),
})

export const BADGE_FIELDS = ['change', 'volatility', 'marketcap', 'volume'] as const
export const BadgeField = z.enum(BADGE_FIELDS)
export type BadgeField = z.infer<typeof BadgeField>
export const BadgeTheme = z.enum(['light', 'dark'])
export type BadgeTheme = z.infer<typeof BadgeTheme>

export const BadgeQuery = z.object({
  theme: BadgeTheme.default('light'),
  show: z
    .string()
    .max(200)
    .transform((v) => [...new Set(v.split(',').filter(Boolean))])
    .pipe(z.array(BadgeField))
    .optional()
    .describe(`Extra boxes after the price, a comma list of: ${BADGE_FIELDS.join(', ')}.`),
})
export type BadgeQuery = z.infer<typeof BadgeQuery>

// Named schemas become components of the OpenAPI document (#/components/schemas/…).
export const QuoteSchema = Quote.meta({ id: 'Quote' })
export const AssetInfoSchema = AssetInfo.meta({ id: 'AssetInfo' })

export const QuotesResponse = z
  .object({
    data: z.array(QuoteSchema).describe('One quote per distinct known asset, in the order asked.'),
    missing: z
      .array(z.string())
      .describe('Requested names with no quote: unknown to the registry, or known but not quoted yet.'),
  })
  .meta({ id: 'QuotesResponse' })
export type QuotesResponse = z.infer<typeof QuotesResponse>

export const HistoryResponse = z
  .object({
    asset: AssetId,
    resolution: Resolution,
    points: z.array(HistoryPoint).describe('[epoch ms, USD price], oldest first.'),
  })
  .meta({ id: 'HistoryResponse' })
export type HistoryResponse = z.infer<typeof HistoryResponse>

export const AssetsResponse = z.object({ data: z.array(AssetInfoSchema) }).meta({ id: 'AssetsResponse' })
export type AssetsResponse = z.infer<typeof AssetsResponse>

/** Every 4xx and 5xx of the REST API. */
export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().describe('Stable machine-readable code, e.g. unknown_asset, invalid_request.'),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' })
export type ErrorResponse = z.infer<typeof ErrorResponse>

export const HealthResponse = z.object({ status: z.literal('ok') })
export const ReadyResponse = z.object({
  status: z.literal('ready'),
  engine: z.enum(['memory', 'redis']),
  node: z.string(),
})
