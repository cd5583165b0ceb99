import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { healthRoutes } from './api/health.js'
import type { AppContext } from './context.js'

/** Builds the Fastify instance from its plugins; testable without listening (app.inject). */
export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>

export async function buildApp(ctx: AppContext): Promise<App> {
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    trustProxy: trustProxyOption(ctx.config.trustProxy),
    disableRequestLogging: true,
    maxParamLength: 200,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)

  // Plugins, in order. Each one is encapsulated and takes { ctx }.
  await app.register(healthRoutes, { ctx })
  // @register-plugins (keep this marker: one line per plugin below)

  return app
}

/** A hop count trusts that many proxies in front (the load balancer is one). */
function trustProxyOption(value: boolean | number | string[]) {
  return typeof value === 'number' ? (_addr: string, hop: number) => hop < value : value
}
