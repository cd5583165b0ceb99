import type { Logger } from 'pino'
import type { SourceId, Tick } from '../../shared/quote.js'
import type { Metrics } from '../metrics.js'
import { type Source, SourceError } from '../sources/source.js'
import { backoffDelay } from './backoff.js'
import { type BreakerState, CircuitBreaker } from './breaker.js'

export interface PollerOptions {
  source: Source
  /** The markets this source should be asked for (registry + stablecoin markets). */
  markets: readonly string[]
  pollMs: number
  /**
   * When the source URL is overridden (a test or an operator's proxy), minPollMs — the real
   * exchange's rate budget — does not apply.
   */
  urlOverridden: boolean
  breaker: { threshold: number; coolDownMs: number }
  /** How often the exchange's market list is reloaded. */
  marketListRefreshMs: number
  /** Retry delay for a market list that could not be loaded. */
  marketListRetryMs: number
  logger: Logger
  metrics: Metrics
  random?: () => number
  /**
   * Poll interval while the source's live stream is healthy (reconciliation only). Default: no
   * stream, always pollMs.
   */
  reconcileMs?: number
}

/** What one poll produced, for the orchestrator. */
export interface PollResult {
  source: SourceId
  ticks: Tick[]
}

/**
 * Polls one source: market list (at start, then hourly; unknown registry markets skipped with one
 * warning each), one fetchTickers call per poll with every market, the poll interval (never faster
 * than the exchange's minPollMs unless its URL is overridden), exponential backoff with jitter after
 * failures, Retry-After on 429/418, and a circuit breaker. Requests are counted by the HttpClient
 * and SourceErrors by kind where they are raised (HttpClient, envelope checks); a failure that is
 * not a SourceError (a bug) is counted here as kind "internal".
 */
export class SourcePoller {
  readonly id: SourceId
  readonly breaker: CircuitBreaker
  private nextAt = 0
  private notBefore = 0
  private failures = 0
  private available: Set<string> | undefined
  private listDueAt = 0
  private listing: Promise<void> | undefined
  private polling: Promise<PollResult | undefined> | undefined
  private readonly warnedMissing = new Set<string>()
  private lastDropWarnAt = 0
  private lastStartedAt = 0
  private streaming = false

  constructor(private readonly opts: PollerOptions) {
    this.id = opts.source.id
    this.breaker = new CircuitBreaker({
      ...opts.breaker,
      onChange: (state, previous) => this.onBreaker(state, previous),
    })
  }

  get source(): Source {
    return this.opts.source
  }

  /** The poll interval in force: config.pollMs, but not below the exchange's minPollMs (read each time: it may vary). */
  intervalMs(): number {
    const full = this.fullRateMs()
    const reconcile = this.opts.reconcileMs
    return this.streaming && reconcile !== undefined ? Math.max(full, reconcile) : full
  }

  private fullRateMs(): number {
    return this.opts.urlOverridden ? this.opts.pollMs : Math.max(this.opts.pollMs, this.opts.source.minPollMs)
  }

  /** Whether the live stream is delivering: REST polling slows to reconciliation while it is. */
  get isStreaming(): boolean {
    return this.streaming
  }

  /**
   * The source's live stream became healthy (polling slows to reconcileMs from the last poll) or
   * stopped delivering (full rate at once: a poll overdue at full rate is due now). A backoff after
   * failures is kept either way.
   */
  setStreaming(healthy: boolean): void {
    if (healthy === this.streaming) return
    this.streaming = healthy
    if (this.failures > 0 || this.lastStartedAt === 0) return
    if (healthy) this.nextAt = Math.max(this.nextAt, this.lastStartedAt + this.intervalMs())
    else this.nextAt = Math.min(this.nextAt, this.lastStartedAt + this.fullRateMs())
  }

  /** The registry markets the exchange lists (all of them until its list is known). */
  activeMarkets(): string[] {
    const available = this.available
    return available ? this.opts.markets.filter((m) => available.has(m)) : [...this.opts.markets]
  }

  /** Whether `market` is known to be listed (true while the list is unknown). */
  lists(market: string): boolean {
    return this.available ? this.available.has(market) : true
  }

  /** Loads the market list when due (at start, hourly, or sooner after a failure). */
  refreshMarkets(now = Date.now()): Promise<void> {
    if (this.listing || now < this.listDueAt) return this.listing ?? Promise.resolve()
    this.listing = this.loadMarkets().finally(() => {
      this.listing = undefined
    })
    return this.listing
  }

  private async loadMarkets(): Promise<void> {
    const { source, logger, markets } = this.opts
    try {
      const listed = await source.listMarkets()
      this.available = listed
      this.listDueAt = Date.now() + this.opts.marketListRefreshMs
      for (const m of markets) {
        if (listed.has(m)) {
          this.warnedMissing.delete(m)
        } else if (!this.warnedMissing.has(m)) {
          this.warnedMissing.add(m)
          logger.warn(
            { source: this.id, market: m },
            `${this.id}: market ${m} is not listed by the exchange: skipped (other markets unaffected)`,
          )
        }
      }
    } catch (err) {
      this.countUnexpected(err)
      this.listDueAt = Date.now() + this.opts.marketListRetryMs
      logger.warn(
        { source: this.id, err: describe(err) },
        `${this.id}: market list unavailable; polling every registry market until it loads`,
      )
    }
  }

  /**
   * Whether a poll may start now: interval elapsed (within `slackMs`, so that a cycle timer firing a
   * millisecond early does not skip a whole cycle), Retry-After respected (strictly), breaker allows,
   * none in flight.
   */
  due(now: number, slackMs = 0): boolean {
    return (
      !this.polling && now + slackMs >= this.nextAt && now >= this.notBefore && this.breaker.canRequest(now)
    )
  }

  get inFlight(): Promise<PollResult | undefined> | undefined {
    return this.polling
  }

  /**
   * One poll: ONE fetchTickers call with every active market. Resolves with the ticks, or undefined
   * after a failure (recorded: backoff, breaker, logs). Never rejects.
   */
  poll(now = Date.now()): Promise<PollResult | undefined> {
    if (this.polling) return this.polling
    this.lastStartedAt = now
    const markets = this.activeMarkets()
    if (markets.length === 0) {
      this.nextAt = now + this.intervalMs()
      return Promise.resolve(undefined)
    }
    this.breaker.begin(now)
    this.polling = this.fetch(markets, now).finally(() => {
      this.polling = undefined
    })
    return this.polling
  }

  private async fetch(markets: string[], startedAt: number): Promise<PollResult | undefined> {
    const { source, logger, metrics } = this.opts
    try {
      const batch = await source.fetchTickers(markets)
      const wasFailing = this.failures > 0
      this.failures = 0
      this.breaker.success()
      this.nextAt = startedAt + this.intervalMs()
      metrics.sourceLastSuccess.set({ source: this.id }, Date.now() / 1000)
      if (wasFailing) logger.info({ source: this.id }, `${this.id}: polling recovered`)
      if (batch.dropped > 0) this.warnDropped(batch.dropped, batch.dropReasons)
      return { source: this.id, ticks: batch.ticks }
    } catch (err) {
      this.onFailure(err, Date.now())
      return undefined
    }
  }

  private onFailure(err: unknown, now: number): void {
    const { logger } = this.opts
    this.countUnexpected(err)
    this.failures++
    this.breaker.failure(now)
    const interval = this.intervalMs()
    const delay = backoffDelay(this.failures, {
      baseMs: interval,
      maxMs: Math.max(interval, this.opts.breaker.coolDownMs),
      floorMs: this.opts.urlOverridden ? 0 : this.opts.source.minPollMs,
      random: this.opts.random,
    })
    this.nextAt = now + delay
    const retryAfterMs = err instanceof SourceError ? err.retryAfterMs : undefined
    if (retryAfterMs !== undefined) this.notBefore = now + retryAfterMs
    const fields = {
      source: this.id,
      err: describe(err),
      kind: err instanceof SourceError ? err.kind : 'internal',
      failures: this.failures,
      retryInMs: Math.max(delay, retryAfterMs ?? 0),
    }
    if (this.failures === 1 || retryAfterMs !== undefined) logger.warn(fields, `${this.id}: poll failed`)
    else logger.debug(fields, `${this.id}: poll failed again`)
  }

  /** SourceErrors are counted where they are raised; anything else is a bug, counted here. */
  private countUnexpected(err: unknown): void {
    if (!(err instanceof SourceError))
      this.opts.metrics.sourceErrors.inc({ source: this.id, kind: 'internal' })
  }

  /** Dropped rows are counted by the adapter's row parser; here they are logged, at most once a minute. */
  private warnDropped(dropped: number, reasons: string[]): void {
    const now = Date.now()
    if (now - this.lastDropWarnAt < 60_000) return
    this.lastDropWarnAt = now
    this.opts.logger.warn(
      { source: this.id, dropped, reasons },
      `${this.id}: dropped ${dropped} malformed row(s)`,
    )
  }

  private onBreaker(state: BreakerState, previous: BreakerState): void {
    const { logger, metrics } = this.opts
    metrics.sourceBreakerOpen.set({ source: this.id }, state === 'closed' ? 0 : 1)
    if (state === 'open' && previous === 'closed') {
      logger.warn(
        { source: this.id, failures: this.breaker.consecutiveFailures },
        `${this.id}: circuit breaker open; probing again in ${this.opts.breaker.coolDownMs} ms`,
      )
    } else if (state === 'closed') {
      logger.info({ source: this.id }, `${this.id}: circuit breaker closed`)
    }
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export interface PollLoopOptions {
  pollers: readonly SourcePoller[]
  pollMs: number
  /** How long a cycle waits for slow sources before publishing without them (their ticks count next cycle). */
  cycleWaitMs: number
  /** Ticks as they arrive (also from polls that finish after their cycle). */
  onTicks: (result: PollResult) => void
  /** End of each cycle: aggregate and publish. */
  onCycle: () => void
  logger: Logger
}

/**
 * The poll cycle of one leadership term (a stopped loop is not restarted: the next term makes a
 * new one): every pollMs, each source that is due is polled once, in parallel. The cycle
 * ends when all have answered or after cycleWaitMs, then onCycle publishes. One slow or failing
 * source never holds the others back for longer than cycleWaitMs, and never stops them.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined
  private running = false
  private generation = 0
  private cycling: Promise<void> | undefined

  /** Timers drift by a few ms: a source due within this much of the cycle start is polled in it. */
  private readonly slackMs: number

  constructor(private readonly opts: PollLoopOptions) {
    this.slackMs = Math.min(100, Math.floor(opts.pollMs / 5))
  }

  start(): void {
    if (this.running) return
    this.running = true
    const generation = this.generation
    const loop = async () => {
      if (!this.running || generation !== this.generation) return
      const started = Date.now()
      this.cycling = this.cycle(generation)
      await this.cycling
      this.cycling = undefined
      if (!this.running || generation !== this.generation) return
      this.timer = setTimeout(loop, Math.max(0, started + this.opts.pollMs - Date.now()))
    }
    this.timer = setTimeout(loop, this.opts.pollMs)
  }

  /** Stops at once: no new requests; results of requests in flight are discarded. */
  stop(): void {
    this.running = false
    this.generation++
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  /** One cycle now (also used for the first cycle at start); publishes unless told not to. */
  async cycle(generation = this.generation, publish = true): Promise<void> {
    const now = Date.now()
    const inFlight: Promise<unknown>[] = []
    for (const p of this.opts.pollers) {
      void p.refreshMarkets(now)
      if (!p.due(now, this.slackMs)) continue
      inFlight.push(
        p.poll(now).then((result) => {
          if (result && generation === this.generation) this.opts.onTicks(result)
        }),
      )
    }
    if (inFlight.length > 0) {
      let timeout: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.allSettled(inFlight),
        new Promise((r) => {
          timeout = setTimeout(r, this.opts.cycleWaitMs)
        }),
      ])
      clearTimeout(timeout)
    }
    if (publish && generation === this.generation) this.opts.onCycle()
  }

  /**
   * A cycle now, between the timer's cycles (a stream stopped delivering: its source is polled at
   * once instead of at the next cycle). No-op when the loop is stopped.
   */
  kick(): void {
    if (!this.running) return
    void this.cycle(this.generation).catch((err: unknown) =>
      this.opts.logger.error({ err }, 'an extra poll cycle failed'),
    )
  }

  /** Waits for requests in flight to settle (shutdown). */
  async drain(): Promise<void> {
    await this.cycling
    await Promise.allSettled(this.opts.pollers.map((p) => p.inFlight))
  }
}
