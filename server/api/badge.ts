import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AssetParams, type BadgeField, BadgeQuery, type BadgeTheme, ErrorResponse } from '../../shared/api.js'
import type { PluginOptions } from '../context.js'
import { resolveAsset } from './asset-refs.js'
import { quoteBadge, unknownAssetBadge } from './badge-content.js'
import { renderBadge } from './badge-svg.js'
import { ApiError } from './errors.js'
import { cacheControlFor, type Prepared, prepareText, SVG_TYPE, sendCached } from './http-cache.js'
import { QuoteViewCache } from './quote-view-cache.js'

interface BadgePlan {
  asset: { id: string; symbol: string; name: string }
  theme: BadgeTheme
  show: BadgeField[]
}

const SVG = z.string().describe('An SVG image.')

/**
 * GET /v1/badge/:asset.svg: the price as an image, for places without JavaScript (READMEs,
 * e-mails). An unknown asset answers 404 with an "unknown asset" badge rather than JSON, since
 * an <img> cannot show JSON; invalid query parameters answer the usual JSON 400.
 */
export const badgeRoutes: FastifyPluginAsync<PluginOptions> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const { engine, registry, config } = ctx
  const cacheControl = cacheControlFor(config.pollMs)

  const badges = new QuoteViewCache<BadgePlan, Prepared>(engine, config.staleMs, {
    ids: (plan) => [plan.asset.id],
    render: (plan, [quote]) => {
      return prepareText(renderBadge(quoteBadge(plan.asset, quote, plan.show, plan.theme)))
    },
    size: (p) => p.body.length,
  })

  app.get(
    '/v1/badge/:asset.svg',
    {
      schema: {
        tags: ['badge'],
        summary: 'Price badge as an SVG image',
        description:
          'Shields-style: symbol | price | the `show` boxes. Grey price and a `stale` box when the quote is stale. ' +
          'Unknown asset → 404 with an "unknown asset" SVG badge.',
        params: AssetParams,
        querystring: BadgeQuery,
        response: {
          200: { description: 'The badge', content: { 'image/svg+xml': { schema: SVG } } },
          400: ErrorResponse,
          404: { description: 'An "unknown asset" badge', content: { 'image/svg+xml': { schema: SVG } } },
          429: ErrorResponse,
        },
      },
    },
    (req, reply) => {
      const { theme, show = [] } = req.query
      reply.header('x-content-type-options', 'nosniff')
      reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      let asset: BadgePlan['asset']
      try {
        asset = resolveAsset(registry, req.params.asset)
      } catch (err) {
        if (!(err instanceof ApiError) || err.statusCode !== 404) throw err
        const body = renderBadge(unknownAssetBadge(req.params.asset, theme))
        reply.code(404).header('cache-control', cacheControl).header('content-type', SVG_TYPE).send(body)
        return
      }
      const key = `${asset.id}|${theme}|${show.join(',')}`
      const view = badges.get(key, () => ({
        asset: { id: asset.id, symbol: asset.symbol, name: asset.name },
        theme,
        show,
      }))
      sendCached(req, reply, view.body, view.etag, SVG_TYPE, cacheControl)
    },
  )
}
