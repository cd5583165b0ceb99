import type { Logger } from 'pino'
import type { AssetRegistry } from './assets.js'
import type { Config } from './config.js'
import type { Engine } from './engine/engine.js'
import type { Metrics } from './metrics.js'

/** What every Fastify plugin of the app is given: `app.register(plugin, { ctx })`. */
export interface AppContext {
  config: Config
  logger: Logger
  engine: Engine
  registry: AssetRegistry
  metrics: Metrics
}

export interface PluginOptions {
  ctx: AppContext
}
