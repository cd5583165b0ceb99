import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { AssetsResponse, ErrorResponse } from '../../shared/api.js'
import type { PluginOptions } from '../context.js'
import { JSON_TYPE, prepareText, sendCached } from './http-cache.js'
import { safeJson } from './safe-json.js'

/** GET /v1/assets: the registry. It only changes with a restart, so its body is prepared once. */
export const assetRoutes: FastifyPluginAsync<PluginOptions> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const data = ctx.registry.info().map((a) => ({ ...a, logo: webUrlOrNull(a.logo) }))
  const { body, etag } = prepareText(safeJson({ data }))

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

/** A logo is only ever handed out as an http(s) URL: a `javascript:` or `data:` one would end up in an <img src>. */
function webUrlOrNull(url: string | null): string | null {
  if (url === null) return null
  try {
    const { protocol } = new URL(url)
    return protocol === 'https:' || protocol === 'http:' ? url : null
  } catch {
    return null
  }
}
