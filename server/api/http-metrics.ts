import type { FastifyPluginAsync } from 'fastify'
import type { PluginOptions } from '../context.js'

/**
 * Request count and duration per route pattern (never the raw URL: random paths must not grow the
 * label set). Registered without encapsulation before any route, so every route is measured.
 */
export const httpMetrics: FastifyPluginAsync<PluginOptions> = async (app, { ctx }) => {
  const { httpRequests, httpDuration } = ctx.metrics
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched'
    httpRequests.inc({ method: req.method, route, status: reply.statusCode })
    httpDuration.observe({ method: req.method, route }, reply.elapsedTime / 1000)
    done()
  })
}
Object.assign(httpMetrics, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'pricewire-http-metrics',
})
