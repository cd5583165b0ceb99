import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { AssetParams, ErrorResponse, HistoryQuery, HistoryResponse } from '../../shared/api.js'
import { type HistoryPoint, WINDOW_MS, WINDOW_RESOLUTION } from '../../shared/quote.js'
import type { PluginOptions } from '../context.js'
import { resolveAsset } from './asset-refs.js'
import { ApiError } from './errors.js'
import { cacheControlFor, JSON_TYPE, type Prepared, prepareText, sendCached } from './http-cache.js'
import { safeJson } from './safe-json.js'

const READ_TIMEOUT_MS = 2_000

/**
 * GET /v1/history/:asset?window=24h|7d. History lives in the engine's store (Redis for many
 * nodes): one read per asset and window is shared by the requests that arrive while it runs and
 * for a short while after, so a burst costs the store one query.
 */
export const historyRoutes: FastifyPluginAsync<PluginOptions> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const { engine, registry, config } = ctx
  const cacheControl = cacheControlFor(config.pollMs)
  const reuseMs = Math.min(1_000, config.pollMs)
  const retryAfter = String(Math.max(1, Math.ceil(config.pollMs / 1000)))
  const recent = new Map<string, { at: number; result: Promise<Prepared> }>()

  app.get(
    '/v1/history/:asset',
    {
      schema: {
        tags: ['history'],
        summary: 'Price history of one asset',
        description: '24h → 5-minute points, 7d → 1-hour points, oldest first.',
        params: AssetParams,
        querystring: HistoryQuery,
        response: {
          200: HistoryResponse,
          400: ErrorResponse,
          404: ErrorResponse,
          429: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const asset = resolveAsset(registry, req.params.asset)
      const { window } = req.query
      const key = `${asset.id}|${window}`
      const now = Date.now()
      let entry = recent.get(key)
      if (!entry || now - entry.at > reuseMs) {
        const resolution = WINDOW_RESOLUTION[window]
        const result = withTimeout(
          engine.readHistory(asset.id, resolution, now - WINDOW_MS[window]),
          READ_TIMEOUT_MS,
        )
          .then((points: HistoryPoint[]) => {
            return prepareText(safeJson({ asset: asset.id, resolution, points }))
          })
          .catch(() => {
            recent.delete(key)
            throw new ApiError(
              503,
              'history_unavailable',
              'history is unavailable right now: retry shortly',
              undefined,
              {
                'retry-after': retryAfter,
              },
            )
          })
        entry = { at: now, result }
        recent.set(key, entry)
        if (recent.size > 10_000) recent.clear()
      }
      const { body, etag } = await entry.result
      return sendCached(req, reply, body, etag, JSON_TYPE, cacheControl)
    },
  )
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
