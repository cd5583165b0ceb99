import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import type { FastifyPluginAsync } from 'fastify'
import { Redis } from 'ioredis'
import type { PluginOptions } from '../context.js'
import { ApiError } from './errors.js'

/**
 * What stands in front of every REST route: CORS for GETs, the per-IP rate limit and load
 * shedding. Registered inside the API plugin, so it covers the API and docs only (the widget,
 * the WebSocket stream and the health probes have their own rules).
 */
export const apiGuards: FastifyPluginAsync<PluginOptions> = async (app, { ctx }) => {
  const { config } = ctx
  const anyOrigin = config.allowedOrigins.includes('*')
  await app.register(cors, {
    origin: anyOrigin ? '*' : config.allowedOrigins,
    // Joined once here: given arrays, the plugin joins them again on every request.
    methods: 'GET, HEAD, OPTIONS',
    exposedHeaders: 'ETag, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset',
    maxAge: 600,
  })

  // Shed load only when the event loop is truly saturated: by default a mean delay of a second
  // between ticks. A node that is merely busy (a load test) stays far below it.
  if (config.shedEventLoopDelayMs > 0)
    await app.register(underPressure, {
      maxEventLoopDelay: config.shedEventLoopDelayMs,
      sampleInterval: 500,
      retryAfter: 5,
    })

  if (config.rateLimit > 0) {
    const redis = config.redisUrl ? rateLimitRedis(ctx) : undefined
    if (redis) app.addHook('onClose', async () => redis.disconnect())
    await app.register(rateLimit, {
      max: config.rateLimit,
      timeWindow: 60_000,
      ...(redis ? { redis, nameSpace: `${config.redisPrefix}ratelimit:` } : {}),
      // The store is down: let the request through rather than fail it.
      skipOnError: true,
      errorResponseBuilder: (_req, limit) =>
        new ApiError(
          429,
          'rate_limited',
          `rate limit of ${limit.max} requests per minute exceeded: retry in ${limit.after}`,
          { limit: limit.max, retryAfterSeconds: Math.ceil(limit.ttl / 1000) },
        ),
    })
  }
}

/** Its own connection: fails fast (no offline queue) while Redis is down, reconnects by itself. */
function rateLimitRedis({ config, logger }: PluginOptions['ctx']): Redis {
  const log = logger.child({ component: 'rate-limit' })
  const redis = new Redis(config.redisUrl!, {
    connectionName: 'pricewire-ratelimit',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1_000),
  })
  let lastError = ''
  redis.on('error', (err: Error) => {
    const message = err.message || 'connection error'
    if (message !== lastError)
      log.warn({ err: message }, 'rate-limit redis unavailable: not limiting meanwhile')
    lastError = message
  })
  redis.on('ready', () => {
    lastError = ''
  })
  return redis
}
// Not encapsulated: the hooks must reach the sibling route plugins of the API.
Object.assign(apiGuards, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'pricewire-api-guards',
})
