import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { AssetParams, ErrorResponse, QuoteSchema, QuotesQuery, QuotesResponse } from '../../shared/api.js'
import type { Quote } from '../../shared/quote.js'
import type { PluginOptions } from '../context.js'
import { type AssetListPlan, planAssetList, resolveAsset } from './asset-refs.js'
import { ApiError } from './errors.js'
import { acceptAssetList, acceptAssetParam, withFastPath } from './fast-validation.js'
import { cacheControlFor, JSON_TYPE, type Prepared, prepareText, sendCached } from './http-cache.js'
import { QuoteViewCache } from './quote-view-cache.js'
import { safeJson } from './safe-json.js'

const prepare = (value: unknown): Prepared => prepareText(safeJson(value))

const sizeOf = (p: Prepared) => p.body.length

/**
 * GET /v1/quotes?assets=… and GET /v1/quotes/:asset, answered from the engine's local mirror.
 * The serialized body and its ETag are cached per request key and rebuilt only when a quote
 * behind them changes (or turns stale), so the hot path sends prepared bytes.
 */
export const quoteRoutes: FastifyPluginAsync<PluginOptions> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const { engine, registry, config } = ctx
  const cacheControl = cacheControlFor(config.pollMs)
  const retryAfter = String(Math.max(1, Math.ceil(config.pollMs / 1000)))

  const lists = new QuoteViewCache<AssetListPlan, Prepared>(engine, config.staleMs, {
    plan: (key) => planAssetList(registry, key),
    ids: (plan) => plan.ids,
    render: (plan, quotes) => {
      const quoted = new Map<string, Quote>()
      plan.ids.forEach((id, i) => {
        const q = quotes[i]
        if (q) quoted.set(id, q)
      })
      const missing = plan.refs.filter((r) => r.id === undefined || !quoted.has(r.id)).map((r) => r.ref)
      return prepare({ data: [...quoted.values()], missing })
    },
    size: sizeOf,
  })

  const singles = new QuoteViewCache<string, Prepared>(engine, config.staleMs, {
    plan: (key) => resolveAsset(registry, key).id,
    ids: (id) => [id],
    render: (id, [quote]) => {
      if (!quote) {
        throw new ApiError(
          503,
          'quote_unavailable',
          `no quote for ${id} yet: retry shortly`,
          { asset: id },
          {
            'retry-after': retryAfter,
          },
        )
      }
      return prepare(quote)
    },
    size: sizeOf,
  })

  app.get(
    '/v1/quotes',
    {
      schema: {
        tags: ['quotes'],
        summary: 'Latest quotes for several assets',
        description:
          'Answered from this node’s live mirror, never from an exchange. `stale: true` marks a quote without a ' +
          'fresh source, or a node that cannot reach its store. 404 only when no asset named is known.',
        querystring: QuotesQuery,
        response: { 200: QuotesResponse, 400: ErrorResponse, 404: ErrorResponse, 429: ErrorResponse },
      },
      validatorCompiler: withFastPath(acceptAssetList),
    },
    (req, reply) => {
      const view = lists.get(req.query.assets)
      sendCached(req, reply, view.body, view.etag, JSON_TYPE, cacheControl)
    },
  )

  app.get(
    '/v1/quotes/:asset',
    {
      schema: {
        tags: ['quotes'],
        summary: 'Latest quote for one asset',
        description:
          '404 `unknown_asset` when the registry has no such asset; 503 `quote_unavailable` (with Retry-After) ' +
          'when it is known but not quoted yet, e.g. right after start.',
        params: AssetParams,
        response: {
          200: QuoteSchema,
          400: ErrorResponse,
          404: ErrorResponse,
          429: ErrorResponse,
          503: ErrorResponse,
        },
      },
      validatorCompiler: withFastPath(acceptAssetParam),
    },
    (req, reply) => {
      const view = singles.get(req.params.asset)
      sendCached(req, reply, view.body, view.etag, JSON_TYPE, cacheControl)
    },
  )
}
