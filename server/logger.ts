import pino, { type Logger } from 'pino'
import type { Config } from './config.js'

/** JSON logs; pretty only in development (pino-pretty is a dev dependency). */
export function createLogger(config: Pick<Config, 'logLevel' | 'prettyLogs' | 'nodeId'>): Logger {
  return pino({
    level: config.logLevel,
    base: { node: config.nodeId },
    ...(config.prettyLogs
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l' } } }
      : {}),
  })
}
