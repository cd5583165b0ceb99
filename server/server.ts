import type { Logger } from 'pino'
import { type App, buildApp } from './app.js'
import { loadRegistry } from './assets.js'
import type { Config } from './config.js'
import type { AppContext } from './context.js'
import { createEngine } from './engine/create.js'
import { createIngest, type Ingest } from './ingest/ingest.js'
import { createLogger } from './logger.js'
import { createMetrics } from './metrics.js'

export interface RunningServer {
  app: App
  ctx: AppContext
  ingest: Ingest
  /** http://host:port actually bound. */
  url: string
  port: number
  /** Graceful: stop polling, close sockets (1001) and the HTTP server, then the engine. */
  close(): Promise<void>
}

/** The composition root: config → registry → engine → ingest → app → listen. */
export async function startServer(
  config: Config,
  logger: Logger = createLogger(config),
): Promise<RunningServer> {
  const registry = loadRegistry(config.assetsFile)
  const metrics = createMetrics()
  const engine = createEngine(config, logger, metrics)
  await engine.start()
  logger.info({ engine: engine.kind }, `using the ${engine.kind} engine`)
  const ctx: AppContext = { config, logger, engine, registry, metrics }
  const app = await buildApp(ctx)
  const ingest = createIngest(ctx)
  await app.listen({ port: config.port, host: config.host })
  const port = (app.server.address() as { port: number }).port
  await ingest.start()
  const readiness = engine.readiness()
  logger.info(
    {
      engine: engine.kind,
      ready: readiness.ready,
      port,
      sources: config.sources,
      assets: registry.ids().length,
    },
    `pricewire listening on ${config.host}:${port} with the ${engine.kind} engine`,
  )
  let closing: Promise<void> | undefined
  return {
    app,
    ctx,
    ingest,
    port,
    url: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`,
    close: () => {
      closing ??= (async () => {
        await ingest.stop().catch((err: unknown) => logger.error({ err }, 'ingest stop failed'))
        await app.close()
        await engine.close()
      })()
      return closing
    },
  }
}
