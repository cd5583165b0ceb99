import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { PluginOptions } from '../context.js'
import { flushHttpMetrics } from './http-metrics.js'

/** GET /metrics: this instance's Prometheus registry in the text exposition format. */
export const metricsRoutes: FastifyPluginAsync<PluginOptions> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const { metrics } = ctx
  const { registry } = metrics
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['ops'],
        summary: 'Prometheus metrics',
        response: {
          200: {
            description: 'Prometheus text exposition format',
            content: { 'text/plain': { schema: z.string() } },
          },
        },
      },
    },
    async (_req, reply) => {
      flushHttpMetrics(metrics)
      const text = await registry.metrics()
      reply.header('cache-control', 'no-store').header('content-type', registry.contentType)
      return text
    },
  )
}
