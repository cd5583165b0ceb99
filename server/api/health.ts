import type { FastifyPluginAsync } from 'fastify'
import type { PluginOptions } from '../context.js'

/** /healthz: the process is up. /readyz: the engine is reachable, else 503 with the reason. */
export const healthRoutes: FastifyPluginAsync<PluginOptions> = async (app, { ctx }) => {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }))

  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const readiness = ctx.engine.readiness()
    if (!readiness.ready) {
      return reply.code(503).send({
        error: { code: 'not_ready', message: readiness.reason, details: { engine: ctx.engine.kind } },
      })
    }
    return { status: 'ready', engine: ctx.engine.kind, node: ctx.config.nodeId }
  })
}
