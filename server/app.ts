import type { IncomingMessage, ServerResponse } from 'node:http'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  LogController,
  type RawServerDefault,
} from 'fastify'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { onClientError, onFrameworkError } from './api/errors.js'
import { healthRoutes } from './api/health.js'
import { apiFoundation, apiRoutes } from './api/index.js'
import { widgetRoutes } from './api/widget.js'
import type { AppContext } from './context.js'
import { streamRoutes } from './push/index.js'

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
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    frameworkErrors: onFrameworkError,
    clientErrorHandler: onClientError,
  }).withTypeProvider<ZodTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  // Before any route, so every route gets them: the error shape and 404s, HTTP metrics, OpenAPI.
  await app.register(apiFoundation, { ctx })

  // Plugins, in order. Each one is encapsulated and takes { ctx }.
  await app.register(healthRoutes, { ctx })
  // @register-plugins (keep this marker: one line per plugin below)
  await app.register(apiRoutes, { ctx })
  await app.register(streamRoutes, { ctx })
  await app.register(widgetRoutes, { ctx })

  return app
}

/** A hop count trusts that many proxies in front (the load balancer is one). */
function trustProxyOption(value: boolean | number | string[]) {
  return typeof value === 'number' ? (_addr: string, hop: number) => hop < value : value
}
