import type { Resolution } from '../../shared/quote.js'

/** Every Redis key and channel the engine uses, under one configurable prefix. */
export function redisKeys(prefix: string) {
  return {
    quote: (asset: string) => `${prefix}quote:${asset}`,
    quotePattern: `${prefix}quote:*`,
    history: (asset: string, resolution: Resolution) => `${prefix}history:${resolution}:${asset}`,
    lock: (name: string) => `${prefix}lock:${name}`,
    bus: `${prefix}bus`,
  }
}

export type RedisKeys = ReturnType<typeof redisKeys>
