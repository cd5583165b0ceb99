import type { Logger } from 'pino'
import type { Config } from '../config.js'
import type { Metrics } from '../metrics.js'
import type { Engine } from './engine.js'
import { MemoryEngine } from './memory.js'
import { RedisEngine } from './redis.js'

/** Redis when REDIS_URL is set, else the embedded memory engine. */
export function createEngine(config: Config, logger: Logger, metrics?: Metrics): Engine {
  if (!config.redisUrl) return new MemoryEngine()
  return new RedisEngine({ url: config.redisUrl, prefix: config.redisPrefix, logger, metrics })
}
