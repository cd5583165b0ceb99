import pino, { type Logger } from 'pino'
import type { ExchangeId, Tick } from '../../../shared/quote.js'
import type { Metrics } from '../../metrics.js'
import { StreamConnection } from './connection.js'
import { chunk, type StreamProtocol } from './protocol.js'

export interface StreamClientOptions {
  /** URL override (config.sourceWsUrls[id]): scheme://host:port, the exchange's path follows; a URL with its own path is used as is. */
  url?: string
  logger?: Logger
  metrics?: Metrics
  /** No price or heartbeat for this long: unhealthy. Default: 3 × the exchange's expected interval. */
  silenceMs?: number
  /** Data-silent this long on a live socket: subscribe again on a fresh one. Default: max(60 s, 10 × silenceMs). */
  resubscribeAfterMs?: number
  /** Replace connections after this long. Default: the exchange's lifetime cut minus 15 minutes (Binance: 24 h). */
  lifetimeMs?: number
  /** Application ping interval. Default: the exchange's recommendation. */
  pingIntervalMs?: number
  /** Default 10 s. */
  pongTimeoutMs?: number
  /** No frame at all for this long: the socket is dead. Default 45 s. */
  idleTimeoutMs?: number
  /** Handshake timeout. Default 10 s. */
  connectTimeoutMs?: number
  /** Reconnect backoff (exponential, with jitter). Default 1 s to 60 s. */
  backoff?: { baseMs: number; maxMs: number }
  random?: () => number
  /** Every valid tick pushed, as it arrives. */
  onTicks: (ticks: Tick[]) => void
  /** Called when healthy() changes. */
  onHealth?: (healthy: boolean) => void
}

/** A live ticker stream of one exchange, over as many connections as its limits require. */
export interface TickStream {
  readonly source: ExchangeId
  /** Streams exactly these markets: the first call connects, a changed set reconnects, the same set does nothing. */
  setMarkets(markets: readonly string[]): void
  /** Markets asked for that this exchange's stream cannot carry (they stay on REST polling). */
  unstreamable(): string[]
  /** Every market streamed, every connection open, subscribed and delivering within the silence deadline. */
  healthy(): boolean
  close(): void
}

const LIFETIME_MARGIN_MS = 15 * 60_000

/** The URL to open: the override's scheme, host and port with the exchange's path, or the override as is when it has a path. */
export function streamUrl(defaultUrl: string, override: string | undefined): string {
  if (!override) return defaultUrl
  const o = new URL(override)
  if (o.pathname !== '/' && o.pathname !== '') return override
  const d = new URL(defaultUrl)
  return `${o.protocol}//${o.host}${d.pathname}${d.search}`
}

export function createExchangeStream(protocol: StreamProtocol, opts: StreamClientOptions): TickStream {
  const logger = opts.logger ?? pino({ level: 'silent' })
  const url = streamUrl(protocol.defaultUrl, opts.url)
  const silenceMs = opts.silenceMs ?? 3 * protocol.expectedIntervalMs
  const pingIntervalMs = opts.pingIntervalMs ?? protocol.ping?.intervalMs
  const pongTimeoutMs = opts.pongTimeoutMs ?? 10_000
  const timings = {
    silenceMs,
    resubscribeAfterMs: Math.max(silenceMs, opts.resubscribeAfterMs ?? Math.max(60_000, 10 * silenceMs)),
    lifetimeMs:
      opts.lifetimeMs ??
      (protocol.lifetimeMs !== undefined
        ? Math.max(60_000, protocol.lifetimeMs - LIFETIME_MARGIN_MS)
        : undefined),
    pingIntervalMs,
    pongTimeoutMs,
    idleTimeoutMs: opts.idleTimeoutMs ?? Math.max(45_000, 2 * (pingIntervalMs ?? 0) + pongTimeoutMs),
    connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
    backoff: opts.backoff ?? { baseMs: 1_000, maxMs: 60_000 },
  }
  const random = opts.random ?? Math.random

  let connections: StreamConnection[] = []
  let markets: string[] = []
  let skipped: string[] = []
  let closed = false
  let wasHealthy = false

  const healthy = (): boolean =>
    !closed && markets.length > 0 && skipped.length === 0 && connections.every((c) => c.isHealthy())

  function onHealthChange(): void {
    const now = healthy()
    if (now === wasHealthy) return
    wasHealthy = now
    opts.metrics?.streamHealthy.set({ source: protocol.source }, now ? 1 : 0)
    logger.info(
      { source: protocol.source, healthy: now },
      now
        ? `${protocol.source}: live stream healthy`
        : `${protocol.source}: live stream not delivering: REST polling at full rate`,
    )
    opts.onHealth?.(now)
  }

  function build(list: string[]): void {
    for (const c of connections) c.stop()
    markets = list
    skipped = list.filter((m) => protocol.streamName(m) === undefined)
    if (skipped.length > 0) {
      logger.warn(
        { source: protocol.source, markets: skipped },
        `${protocol.source}: ${skipped.length} market(s) cannot be streamed; REST polling keeps them`,
      )
    }
    const streamable = list.filter((m) => protocol.streamName(m) !== undefined)
    connections = chunk(streamable, protocol.maxMarketsPerConnection).map(
      (part, i) =>
        new StreamConnection({
          ...timings,
          protocol,
          url,
          markets: part,
          label: `${protocol.source}#${i}`,
          startDelayMs: i * protocol.connectGapMs,
          random,
          logger,
          metrics: opts.metrics,
          onTicks: opts.onTicks,
          onHealthChange,
        }),
    )
    for (const c of connections) c.start()
    if (!wasHealthy) opts.metrics?.streamHealthy.set({ source: protocol.source }, 0)
    onHealthChange()
  }

  return {
    source: protocol.source,

    setMarkets(list: readonly string[]): void {
      if (closed) return
      const next = [...new Set(list)].sort()
      if (next.length === markets.length && next.every((m, i) => m === markets[i])) return
      build(next)
    },

    unstreamable: () => [...skipped],

    healthy,

    close(): void {
      if (closed) return
      closed = true
      for (const c of connections) c.stop()
      connections = []
      onHealthChange()
    },
  }
}
