import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { PluginOptions } from '../context.js'

/** GET /metrics: this instance's Prometheus registry in the text exposition format. */
export const metricsRoutes: FastifyPluginAsync<PluginOptions> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const { registry } = ctx.metrics
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
      const text = await registry.metrics()
      reply.header('cache-control', 'no-store').header('content-type', registry.contentType)
      return text
    },
  )
}
