import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString, LogFn } from 'pino'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

/**
 * The per-request logger (req.log), made only when a request actually logs. Fastify creates one
 * for every request, and a pino child costs more than the rest of a cached read; request logging
 * is off, so most requests never write a line. It carries the same bindings (the request id) as
 * the child it stands for, and behaves like it when used.
 */
class LazyRequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly opts: ChildLoggerOptions,
  ) {}

  private get real(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.opts)
    return this.made
  }

  get level(): LevelWithSilentOrString {
    return this.made?.level ?? this.opts.level ?? this.parent.level
  }

  set level(level: LevelWithSilentOrString) {
    this.real.level = level
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, options)
  }

  fatal(...args: Parameters<LogFn>): void {
    this.log('fatal', args)
  }
  error(...args: Parameters<LogFn>): void {
    this.log('error', args)
  }
  warn(...args: Parameters<LogFn>): void {
    this.log('warn', args)
  }
  info(...args: Parameters<LogFn>): void {
    this.log('info', args)
  }
  debug(...args: Parameters<LogFn>): void {
    this.log('debug', args)
  }
  trace(...args: Parameters<LogFn>): void {
    this.log('trace', args)
  }
  silent(): void {}

  private log(level: Level, args: Parameters<LogFn>): void {
    const parent = this.parent as FastifyBaseLogger & { isLevelEnabled?: (l: string) => boolean }
    // Below the level: nothing to write, nothing to make.
    if (this.made === undefined && parent.isLevelEnabled?.(level) === false && this.opts.level === undefined)
      return
    ;(this.real[level] as (...a: unknown[]) => void)(...args)
  }
}

/** For `setChildLoggerFactory`. */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  opts: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, opts)
}
