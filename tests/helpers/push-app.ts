import Fastify from 'fastify'
import pino from 'pino'
import { type App, buildApp } from '../../server/app.js'
import { type AssetRegistry, loadRegistry } from '../../server/assets.js'
import { configFrom } from '../../server/config.js'
import type { AppContext } from '../../server/context.js'
import { createEngine } from '../../server/engine/create.js'
import type { Engine, QuoteBatch } from '../../server/engine/engine.js'
import { createMetrics } from '../../server/metrics.js'
import { streamRoutes } from '../../server/push/index.js'
import type { PushLimits } from '../../server/push/limits.js'
import type { Quote } from '../../shared/quote.js'
import { makeQuote, waitFor } from './quotes.js'

export interface PushApp {
  app: App | ReturnType<typeof Fastify>
  ctx: AppContext
  engine: Engine
  /** ws://127.0.0.1:port/v1/stream */
  wsUrl: string
  httpUrl: string
  /** Publishes a batch through the real engine, as the ingest leader does. */
  publish(quotes: Quote[], history?: QuoteBatch['history']): Promise<void>
  /** Publishes a quote for every registry asset (prices 1, 2, 3…) and waits until the mirror has them all. */
  quoteEveryAsset(): Promise<void>
  /** A metric's current value (summed over labels, or for one label set). */
  metric(name: string, labels?: Record<string, string>): Promise<number>
  close(): Promise<void>
}

/**
 * The app with the stream, in this process, listening on a free port, with a real engine (memory,
 * or Redis when REDIS_URL is given) and no ingest: tests publish batches themselves. With `limits`,
 * the stream plugin alone is mounted on a bare Fastify with those limit overrides.
 */
export async function startPushApp(
  opts: { vars?: Record<string, string>; limits?: Partial<PushLimits>; registry?: AssetRegistry } = {},
): Promise<PushApp> {
  const config = configFrom({ PORT: '0', HOST: '127.0.0.1', ...opts.vars })
  const logger = pino({ level: 'silent' })
  const metrics = createMetrics()
  const engine = createEngine(config, logger, metrics)
  await engine.start()
  const registry = opts.registry ?? loadRegistry(config.assetsFile)
  const ctx: AppContext = { config, logger, engine, registry, metrics }
  let app: PushApp['app']
  if (opts.limits) {
    app = Fastify({ loggerInstance: logger })
    await app.register(streamRoutes, { ctx, limits: opts.limits })
  } else {
    app = await buildApp(ctx)
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const publish: PushApp['publish'] = (quotes, history = []) =>
    engine.publish({ origin: config.nodeId, publishedAt: Date.now(), quotes, history })
  let closing: Promise<void> | undefined
  return {
    app,
    ctx,
    engine,
    wsUrl: `ws://127.0.0.1:${port}/v1/stream`,
    httpUrl: `http://127.0.0.1:${port}`,
    publish,
    async quoteEveryAsset() {
      const ids = registry.ids()
      await publish(ids.map((id, i) => makeQuote(id, { price: 1 + i, seq: 1 })))
      await waitFor(() => ids.every((id) => engine.latest(id)))
    },
    async metric(name, labels) {
      const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name)
      if (!metric) throw new Error(`no metric ${name}`)
      const values = (metric.values as { value: number; labels: Record<string, string | number> }[]).filter(
        (v) => !labels || Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
      )
      return values.reduce((sum, v) => sum + v.value, 0)
    },
    close: () => {
      closing ??= (async () => {
        await app.close()
        await engine.close()
      })()
      return closing
    },
  }
}
