import type { FastifyPluginAsync } from 'fastify'
import type { PluginOptions } from '../context.js'
import { assetRoutes } from './assets.js'
import { badgeRoutes } from './badge.js'
import { docsRoutes } from './docs.js'
import { errorHandling } from './errors.js'
import { apiGuards } from './guards.js'
import { historyRoutes } from './history.js'
import { httpMetrics } from './http-metrics.js'
import { metricsRoutes } from './metrics.js'
import { openApi } from './openapi.js'
import { quoteRoutes } from './quotes.js'
import { lazyChildLogger } from './request-logger.js'

/**
 * What must apply to every route of the app, so it is registered on the root instance before
 * any route: the error shape and 404s, HTTP metrics, the OpenAPI collector, and per-request
 * loggers made only when used.
 */
export const apiFoundation: FastifyPluginAsync<PluginOptions> = async (app, opts) => {
  app.setChildLoggerFactory(lazyChildLogger)
  await app.register(errorHandling, opts)
  await app.register(httpMetrics, opts)
  await app.register(openApi, opts)
}
Object.assign(apiFoundation, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'pricewire-api-foundation',
})

/** The REST API (/v1), /metrics and /docs, behind CORS, the rate limit and load shedding. */
export const apiRoutes: FastifyPluginAsync<PluginOptions> = async (app, opts) => {
  await app.register(apiGuards, opts)
  await app.register(docsRoutes, opts)
  await app.register(quoteRoutes, opts)
  await app.register(historyRoutes, opts)
  await app.register(assetRoutes, opts)
  await app.register(badgeRoutes, opts)
  await app.register(metricsRoutes, opts)
}
