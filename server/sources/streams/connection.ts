import type { Logger } from 'pino'
import type { Tick } from '../../../shared/quote.js'
import { backoffDelay } from '../../ingest/backoff.js'
import type { Metrics } from '../../metrics.js'
import type { StreamFrame, StreamProtocol } from './protocol.js'
import { Session } from './session.js'

export interface ConnectionTimings {
  /** No price or heartbeat for this long: the connection is not healthy (polling takes over). */
  silenceMs: number
  /** Data-silent this long although the socket answers: subscribe again on a fresh connection. */
  resubscribeAfterMs: number
  /** Replace the connection after this long (before the exchange's own lifetime cut); none if undefined. */
  lifetimeMs: number | undefined
  pingIntervalMs: number | undefined
  pongTimeoutMs: number
  idleTimeoutMs: number
  connectTimeoutMs: number
  backoff: { baseMs: number; maxMs: number }
}

export interface ConnectionOptions extends ConnectionTimings {
  protocol: StreamProtocol
  url: string
  markets: readonly string[]
  /** "binance#0": the source and this connection's index, for logs. */
  label: string
  /** Wait before the first connection (spreads a source's connections over its connection rate limit). */
  startDelayMs: number
  random: () => number
  logger: Logger
  metrics?: Metrics
  onTicks: (ticks: Tick[]) => void
  /** Health may have changed: the owner reads isHealthy(). */
  onHealthChange: () => void
}

/** How often a burst of malformed pushes is logged, at most. */
const DROP_LOG_INTERVAL_MS = 60_000

/** The slowest pace of asking again after refused subscriptions. */
const REFUSAL_RETRY_MAX_MS = 5 * 60_000
/** How long a connection must deliver unrefused for earlier refusals to be forgotten. */
const REFUSALS_FORGOTTEN_AFTER_MS = 10 * 60_000

/**
 * One logical connection carrying a fixed set of markets: reconnects with exponential backoff and
 * jitter (subscribing again each time), replaces itself before the exchange's lifetime cut or when
 * the exchange announces a shutdown (make-before-break: the new connection takes over once it
 * delivers), and knows whether it is healthy: open, not refused, and delivering within silenceMs.
 */
export class StreamConnection {
  private current: Session | undefined
  /** A replacement being brought up while `current` still delivers. */
  private standby: Session | undefined
  private failures = 0
  private lastDataAt = 0
  private refused: string | undefined
  /** Subscriptions refused in a row, on any connection: paces the retries; a swap does not reset it. */
  private refusals = 0
  private readonly refusedSessions = new WeakSet<Session>()
  private refusalRetryInMs = 0
  private stopped = false
  private started = false
  private wasHealthy = false
  private reconnectTimer: NodeJS.Timeout | undefined
  private lifetimeTimer: NodeJS.Timeout | undefined
  private silenceTimer: NodeJS.Timeout | undefined
  private standbyTimer: NodeJS.Timeout | undefined
  private lastDropLogAt = 0
  private readonly source: string

  constructor(private readonly opts: ConnectionOptions) {
    this.source = opts.protocol.source
  }

  start(): void {
    if (this.started || this.stopped) return
    this.started = true
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      this.current = this.openSession()
    }, this.opts.startDelayMs)
  }

  isHealthy(now = Date.now()): boolean {
    return (
      !this.stopped &&
      this.current?.isOpen === true &&
      this.refused === undefined &&
      this.lastDataAt > 0 &&
      now - this.lastDataAt < this.opts.silenceMs
    )
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    for (const t of [this.reconnectTimer, this.lifetimeTimer, this.silenceTimer, this.standbyTimer])
      clearTimeout(t)
    this.standby?.close('stream stopped')
    this.current?.close('stream stopped')
    this.standby = undefined
    this.current = undefined
    this.healthChanged()
  }

  private openSession(): Session {
    const { protocol, url, markets } = this.opts
    return new Session({
      url,
      protocol,
      markets,
      connectTimeoutMs: this.opts.connectTimeoutMs,
      idleTimeoutMs: this.opts.idleTimeoutMs,
      pingIntervalMs: this.opts.pingIntervalMs,
      pongTimeoutMs: this.opts.pongTimeoutMs,
      metrics: this.opts.metrics,
      onOpen: (s) => this.onOpen(s),
      onFrame: (frame, s) => this.onFrame(frame, s),
      onEnd: (s, reason) => this.onEnd(s, reason),
    })
  }

  private onOpen(session: Session): void {
    this.opts.logger.info(
      { source: this.source, connection: this.opts.label, markets: this.opts.markets.length },
      `${this.opts.label}: connected, subscribing`,
    )
    if (session !== this.current) return
    this.armLifetime()
    if (!this.silenceTimer) this.armSilence()
  }

  private onFrame(frame: StreamFrame, session: Session): void {
    if (session !== this.current && session !== this.standby) return
    switch (frame.kind) {
      case 'ticks':
        if (frame.batch.dropped > 0)
          this.logDrop(`${frame.batch.dropped} malformed row(s)`, frame.batch.dropReasons)
        if (frame.batch.ticks.length === 0) return
        this.opts.metrics?.streamTicks.inc({ source: this.source }, frame.batch.ticks.length)
        this.deliver(frame.batch.ticks)
        this.onData(session)
        return
      case 'heartbeat':
        this.onData(session)
        return
      case 'invalid':
        this.opts.metrics?.streamDropped.inc({ source: this.source, reason: frame.reason })
        this.logDrop(`malformed message dropped (${frame.reason})`, [frame.detail])
        return
      case 'reconnect':
        if (session !== this.current) return
        this.opts.logger.info(
          { source: this.source, connection: this.opts.label, reason: frame.reason },
          `${this.opts.label}: the exchange asks for a new connection (${frame.reason}): replacing it`,
        )
        this.opts.metrics?.streamReconnects.inc({ source: this.source, reason: 'server_notice' })
        this.rotate()
        return
      case 'rejected':
        this.onRefused(frame.reason, session)
        return
      case 'pong':
      case 'subscribed':
      case 'ignored':
        return
    }
  }

  /**
   * The exchange refused a subscription. Polling stays at full rate meanwhile, and a fresh connection
   * asks again later, ever more slowly: a refusal may pass (a limit on subscribing), or may not (a
   * market the exchange does not list), and then it costs one connection per few minutes at most.
   */
  private onRefused(reason: string, session: Session): void {
    // One count per connection: an exchange may refuse each of several subscribe messages.
    if (this.refusedSessions.has(session)) return
    this.refusedSessions.add(session)
    this.refusals++
    const retryInMs = this.refusalRetryDelay()
    this.refusalRetryInMs = retryInMs
    const fields = {
      source: this.source,
      connection: this.opts.label,
      reason,
      refusals: this.refusals,
      retryInMs,
    }
    const message = `${this.opts.label}: subscription refused: ${reason}; polling stays at full rate, asking again in ${retryInMs} ms`
    if (this.refusals === 1) this.opts.logger.warn(fields, message)
    else this.opts.logger.debug(fields, message)
    if (session === this.current) {
      this.refused = reason
      this.healthChanged()
      if (!this.standby) this.scheduleRotation(retryInMs, 'retry')
    } else {
      // onEnd schedules the next try, paced by the refusals.
      session.terminate(`replacement refused: ${reason}`)
    }
  }

  private refusalRetryDelay(): number {
    const { backoff } = this.opts
    return backoffDelay(this.refusals, {
      baseMs: backoff.baseMs,
      maxMs: Math.max(backoff.maxMs, REFUSAL_RETRY_MAX_MS),
      random: this.opts.random,
    })
  }

  /** A valid price or heartbeat arrived on `session`. */
  private onData(session: Session): void {
    if (session === this.standby) {
      this.promoteStandby('replacement delivering')
    } else {
      this.failures = 0
    }
    this.lastDataAt = Date.now()
    // A connection that has delivered unrefused for long enough wipes the slate.
    const since = this.current?.connectedAt
    if (
      this.refusals > 0 &&
      this.refused === undefined &&
      since !== undefined &&
      this.lastDataAt - since >= REFUSALS_FORGOTTEN_AFTER_MS
    )
      this.refusals = 0
    if (!this.silenceTimer) this.armSilence()
    if (!this.wasHealthy) this.healthChanged()
  }

  private onEnd(session: Session, reason: string): void {
    if (session === this.standby) {
      this.standby = undefined
      clearTimeout(this.standbyTimer)
      if (this.stopped) return
      this.opts.logger.debug(
        { source: this.source, connection: this.opts.label, reason },
        'replacement failed',
      )
      // Keep the current connection; try again later.
      const failures = ++this.failures
      this.scheduleRotation(
        this.refusals > 0
          ? this.refusalRetryInMs
          : backoffDelay(failures, { ...this.opts.backoff, random: this.opts.random }),
        'retry',
      )
      return
    }
    if (session !== this.current) return
    this.current = undefined
    this.lastDataAt = 0
    clearTimeout(this.lifetimeTimer)
    if (this.stopped) return
    if (this.standby) {
      this.promoteStandby(`previous connection ${reason}`)
      return
    }
    this.failures++
    const delay = backoffDelay(this.failures, {
      ...this.opts.backoff,
      floorMs: this.opts.protocol.connectGapMs,
      random: this.opts.random,
    })
    this.opts.metrics?.streamReconnects.inc({ source: this.source, reason: reasonKind(reason) })
    const fields = {
      source: this.source,
      connection: this.opts.label,
      reason,
      failures: this.failures,
      retryInMs: delay,
    }
    if (this.failures === 1)
      this.opts.logger.warn(fields, `${this.opts.label}: stream ${reason}; reconnecting`)
    else this.opts.logger.debug(fields, `${this.opts.label}: stream ${reason} again`)
    this.healthChanged()
    clearTimeout(this.reconnectTimer)
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      if (this.stopped) return
      this.refused = undefined
      this.current = this.openSession()
    }, delay)
  }

  /** Brings up a replacement; the current connection keeps delivering until it does. */
  private rotate(): void {
    if (this.stopped || this.standby) return
    if (!this.current) return
    this.standby = this.openSession()
    clearTimeout(this.standbyTimer)
    const standby = this.standby
    this.standbyTimer = setTimeout(() => {
      if (this.standby === standby) standby.terminate('replacement delivered nothing in time')
    }, this.opts.connectTimeoutMs + this.opts.silenceMs)
  }

  private promoteStandby(why: string): void {
    const next = this.standby
    if (!next) return
    clearTimeout(this.standbyTimer)
    const old = this.current
    this.standby = undefined
    this.current = next
    this.refused = undefined
    this.failures = 0
    this.opts.logger.info(
      { source: this.source, connection: this.opts.label, why },
      `${this.opts.label}: switched to a fresh connection`,
    )
    old?.close('replaced by a fresh connection')
    this.armLifetime()
    this.healthChanged()
  }

  private scheduleRotation(delayMs: number, reason: 'lifetime' | 'retry'): void {
    clearTimeout(this.lifetimeTimer)
    this.lifetimeTimer = setTimeout(() => {
      if (reason === 'lifetime') {
        this.opts.metrics?.streamReconnects.inc({ source: this.source, reason })
        this.opts.logger.info(
          { source: this.source, connection: this.opts.label },
          `${this.opts.label}: connection lifetime reached: replacing it`,
        )
      }
      this.rotate()
    }, delayMs)
  }

  private armLifetime(): void {
    if (this.opts.lifetimeMs === undefined) return
    this.scheduleRotation(this.opts.lifetimeMs, 'lifetime')
  }

  /**
   * The silence watchdog: one timer from the first connection on, re-armed from lastDataAt however many
   * messages arrive. Silent past silenceMs: unhealthy (polling takes over at once); silent past
   * resubscribeAfterMs although the socket lives: a fresh connection subscribes again.
   */
  private armSilence(): void {
    const now = Date.now()
    // Measured from the last price, or from when the current socket opened if it has sent none yet.
    const since = Math.max(this.lastDataAt, this.current?.connectedAt ?? now)
    const silentFor = now - since
    let wait: number
    if (silentFor < this.opts.silenceMs) {
      wait = this.opts.silenceMs - silentFor
    } else {
      this.healthChanged()
      if (silentFor >= this.opts.resubscribeAfterMs && this.current && !this.standby) {
        this.opts.logger.warn(
          { source: this.source, connection: this.opts.label, silentForMs: silentFor },
          `${this.opts.label}: no prices for ${silentFor} ms: subscribing again on a fresh connection`,
        )
        this.opts.metrics?.streamReconnects.inc({ source: this.source, reason: 'silent' })
        this.rotate()
        wait = this.opts.resubscribeAfterMs
      } else {
        wait = Math.max(this.opts.silenceMs, this.opts.resubscribeAfterMs - silentFor)
      }
    }
    this.silenceTimer = setTimeout(
      () => {
        this.silenceTimer = undefined
        if (!this.stopped) this.armSilence()
      },
      Math.max(1, wait),
    )
  }

  private healthChanged(): void {
    const healthy = this.isHealthy()
    if (healthy === this.wasHealthy) return
    this.wasHealthy = healthy
    try {
      this.opts.onHealthChange()
    } catch (err) {
      this.opts.logger.error({ err, source: this.source }, `${this.opts.label}: health listener failed`)
    }
  }

  /** Hands ticks on; a failing consumer is logged, never allowed to break the socket's event loop. */
  private deliver(ticks: Tick[]): void {
    try {
      this.opts.onTicks(ticks)
    } catch (err) {
      this.opts.logger.error({ err, source: this.source }, `${this.opts.label}: tick consumer failed`)
    }
  }

  private logDrop(what: string, reasons: string[]): void {
    const now = Date.now()
    if (now - this.lastDropLogAt < DROP_LOG_INTERVAL_MS) return
    this.lastDropLogAt = now
    this.opts.logger.warn(
      { source: this.source, connection: this.opts.label, reasons },
      `${this.opts.label}: ${what}`,
    )
  }
}

function reasonKind(reason: string): string {
  if (reason.startsWith('closed')) return 'closed'
  if (reason.startsWith('no answer')) return 'no_pong'
  if (reason.startsWith('no frame')) return 'idle'
  return 'error'
}
