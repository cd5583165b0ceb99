import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { ErrorResponse, HealthResponse, ReadyResponse } from '../../shared/api.js'
import type { PluginOptions } from '../context.js'

/** /healthz: the process is up. /readyz: the engine is reachable, else 503 with the reason. */
export const healthRoutes: FastifyPluginAsync<PluginOptions> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Liveness: the process is up',
        response: { 200: HealthResponse },
      },
    },
    async (_req, reply) => {
      reply.header('cache-control', 'no-store')
      return { status: 'ok' as const }
    },
  )

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Readiness: the engine (memory or Redis) is reachable',
        description: '503 `not_ready` naming the reason while the store is unreachable.',
        response: { 200: ReadyResponse, 503: ErrorResponse },
      },
    },
    async (_req, reply) => {
      reply.header('cache-control', 'no-store')
      const readiness = ctx.engine.readiness()
      if (!readiness.ready) {
        return reply.code(503).send({
          error: { code: 'not_ready', message: readiness.reason, details: { engine: ctx.engine.kind } },
        })
      }
      return { status: 'ready' as const, engine: ctx.engine.kind, node: ctx.config.nodeId }
    },
  )
}
