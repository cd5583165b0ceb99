import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { AssetsResponse, ErrorResponse } from '../../shared/api.js'
import type { PluginOptions } from '../context.js'
import { etagOf, JSON_TYPE, sendCached } from './http-cache.js'
import { safeJson } from './safe-json.js'

/** GET /v1/assets: the registry. It only changes with a restart, so its body is prepared once. */
export const assetRoutes: FastifyPluginAsync<PluginOptions> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const body = safeJson({ data: ctx.registry.info() })
  const etag = etagOf(body)

  app.get(
    '/v1/assets',
    {
      schema: {
        tags: ['assets'],
        summary: 'Every asset this service quotes',
        description: 'Address assets by `id` everywhere: tickers are ambiguous (Talus trades as US).',
        response: { 200: AssetsResponse, 429: ErrorResponse },
      },
    },
    (req, reply) => {
      sendCached(req, reply, body, etag, JSON_TYPE, 'public, max-age=300')
    },
  )
}
