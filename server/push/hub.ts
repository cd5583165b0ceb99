import type { Logger } from 'pino'
import type { HistoryWindow, Quote } from '../../shared/quote.js'
import type { AssetRegistry } from '../assets.js'
import type { AppContext } from '../context.js'
import type { Engine, HistoryUpdate, QuoteBatch } from '../engine/engine.js'
import { withFreshness } from '../freshness.js'
import type { Metrics } from '../metrics.js'
import type { Connection } from './connection.js'
import { historyFrame, quotesFrameOf } from './frames.js'
import { HistoryCache } from './history-cache.js'
import type { IpLimiter } from './ip-limiter.js'
import type { PushLimits } from './limits.js'

/** Quotes of a batch are grouped in chunks this big: a chunk's subset per connection fits a double's 53 bits. */
const CHUNK = 52
const WINDOW_OF: Record<HistoryUpdate['resolution'], HistoryWindow> = { '5m': '24h', '1h': '7d' }

/**
 * Asset → connections, and the fan-out of every batch from the bus.
 *
 * For each batch every quote is serialised once. Connections are then grouped by which of the
 * batch's quotes they subscribe to; each group's frame is built once (concatenation of the cached
 * fragments) and encoded to bytes once, and that same Buffer is written to every socket of the
 * group. When all clients watch the same assets, a batch costs one stringify per quote and one
 * Buffer, whatever the number of clients.
 */
export class Hub {
  readonly connections = new Set<Connection>()
  readonly history: HistoryCache
  readonly engine: Engine
  readonly registry: AssetRegistry
  readonly metrics: Metrics
  readonly logger: Logger
  /** Counters bumped on the hot path as plain numbers, moved to Prometheus once per batch. */
  sentMessages = 0
  sentBytes = 0
  conflated = 0
  private readonly subscribers = new Map<string, Set<Connection>>()
  /** The last serialised quote per asset, reused by snapshots while it is still the newest. */
  private readonly fragments = new Map<string, { quote: Quote; json: string }>()
  /** Seq of the newest quote per asset this hub has delivered (the mirror may be ahead of it). */
  readonly deliveredSeq = new Map<string, number>()
  private readonly slow = new Set<Connection>()
  private slowTimer: NodeJS.Timeout | undefined
  private epoch = 0
  private readonly staleMs: number
  private readonly observeBusLag: boolean

  constructor(
    ctx: AppContext,
    readonly limits: PushLimits,
    private readonly ips: IpLimiter,
  ) {
    this.engine = ctx.engine
    this.registry = ctx.registry
    this.metrics = ctx.metrics
    this.logger = ctx.logger.child({ component: 'push' })
    this.staleMs = ctx.config.staleMs
    this.history = new HistoryCache(ctx.engine)
    // The Redis engine measures its own bus lag; in one process the hub does.
    this.observeBusLag = ctx.engine.kind === 'memory'
  }

  /** The engine's batch handler: never throws (a throw would escape into the engine's delivery loop). */
  readonly onBatch = (batch: QuoteBatch): void => {
    try {
      this.deliver(batch)
    } catch (err) {
      this.logger.error({ err }, 'fan-out of a batch failed')
    }
  }

  add(conn: Connection): void {
    this.connections.add(conn)
    this.metrics.wsConnections.inc()
  }

  remove(conn: Connection): void {
    if (!this.connections.delete(conn)) return
    for (const asset of conn.subs) this.removeSubscriber(asset, conn)
    this.metrics.wsSubscriptions.dec(conn.subs.size)
    conn.subs.clear()
    this.slow.delete(conn)
    this.ips.release(conn.ip)
    this.metrics.wsConnections.dec()
  }

  subscribe(conn: Connection, asset: string): void {
    conn.subs.add(asset)
    let set = this.subscribers.get(asset)
    if (set === undefined) {
      set = new Set()
      this.subscribers.set(asset, set)
    }
    set.add(conn)
    this.metrics.wsSubscriptions.inc()
  }

  unsubscribe(conn: Connection, asset: string): void {
    if (!conn.subs.delete(asset)) return
    this.removeSubscriber(asset, conn)
    this.metrics.wsSubscriptions.dec()
  }

  private removeSubscriber(asset: string, conn: Connection): void {
    const set = this.subscribers.get(asset)
    if (set === undefined) return
    set.delete(conn)
    if (set.size === 0) this.subscribers.delete(asset)
  }

  subscriberCount(asset: string): number {
    return this.subscribers.get(asset)?.size ?? 0
  }

  deliver(batch: QuoteBatch): void {
    if (this.observeBusLag) this.metrics.busLag.observe(Math.max(0, Date.now() - batch.publishedAt) / 1000)
    const quotes = batch.quotes
    for (let start = 0; start < quotes.length; start += CHUNK) {
      this.deliverChunk(quotes, start, Math.min(quotes.length, start + CHUNK))
    }
    for (const update of batch.history) this.deliverHistory(update)
    this.commitStats()
  }

  private deliverChunk(quotes: readonly Quote[], start: number, end: number): void {
    const epoch = ++this.epoch
    const assets: string[] = []
    const fragments: string[] = []
    const touched: Connection[] = []
    let bit = 1
    for (let i = start; i < end; i++) {
      const quote = quotes[i]!
      // Never push a quote older than the one this node already has (a late message from a former
      // leader): clients see seq only go up. The mirror is updated before delivery, so it is at
      // least this quote unless something newer came first.
      const newest = this.engine.latest(quote.asset)
      if (newest !== undefined && newest.seq > quote.seq) continue
      const json = JSON.stringify(quote)
      this.fragments.set(quote.asset, { quote, json })
      this.deliveredSeq.set(quote.asset, quote.seq)
      assets.push(quote.asset)
      fragments.push(json)
      // Bit of this quote: its index in fragments.
      const own = bit
      bit *= 2
      const subs = this.subscribers.get(quote.asset)
      if (subs === undefined) continue
      for (const conn of subs) {
        // Its snapshot already carried this quote (taken while the quote was on its way here).
        if (conn.ahead !== null && conn.hadInSnapshot(quote.asset, quote.seq)) continue
        if (conn.epoch !== epoch) {
          conn.epoch = epoch
          conn.mask = own
          touched.push(conn)
        } else {
          conn.mask += own
        }
      }
    }
    if (touched.length === 0) return
    // One Buffer per distinct subset of this chunk's quotes, shared by every connection with that subset.
    let lastMask = -1
    let lastFrame: Buffer | undefined
    let frames: Map<number, Buffer> | undefined
    for (const conn of touched) {
      const mask = conn.mask
      let frame: Buffer | undefined
      if (mask === lastMask) frame = lastFrame
      else {
        frame = frames?.get(mask)
        if (frame === undefined) {
          frame = quotesFrameOf(fragments, mask)
          frames ??= new Map()
          frames.set(mask, frame)
        }
        lastMask = mask
        lastFrame = frame
      }
      conn.deliverQuotes(frame!, assets, fragments, mask)
    }
  }

  private deliverHistory(update: HistoryUpdate): void {
    this.history.invalidate(update.asset, WINDOW_OF[update.resolution])
    // Sparklines follow the 24 h window: only its 5-minute points are pushed.
    if (update.resolution !== '5m') return
    const subs = this.subscribers.get(update.asset)
    if (subs === undefined) return
    const frame = historyFrame(update.asset, update.point)
    for (const conn of subs) conn.deliverHistory(update.asset, frame)
  }

  /** The asset's newest quote for a snapshot, serialised: the cached fragment while it still applies. */
  snapshotFragment(asset: string, now: number, engineReady: boolean): string | undefined {
    const latest = this.engine.latest(asset)
    if (latest === undefined) return undefined
    const quote = withFreshness(latest, now, this.staleMs, engineReady)
    const cached = this.fragments.get(asset)
    if (cached !== undefined && cached.quote === quote) return cached.json
    const json = JSON.stringify(quote)
    if (quote === latest) this.fragments.set(asset, { quote, json })
    return json
  }

  // ── slow connections ────────────────────────────────────────────────────

  /** A connection whose socket is behind: swept until it drains (one timer for all of them). */
  markSlow(conn: Connection): void {
    if (conn.closed || this.slow.has(conn)) return
    this.slow.add(conn)
    if (this.slowTimer === undefined) {
      const everyMs = Math.max(20, Math.min(250, Math.floor(this.limits.slowGraceMs / 5)))
      this.slowTimer = setInterval(() => this.sweepSlow(), everyMs)
      this.slowTimer.unref()
    }
  }

  private sweepSlow(): void {
    const now = Date.now()
    for (const conn of this.slow) if (!conn.checkSlow(now)) this.slow.delete(conn)
    if (this.slow.size === 0) this.stopSlowSweep()
    this.commitStats()
  }

  private stopSlowSweep(): void {
    if (this.slowTimer !== undefined) clearInterval(this.slowTimer)
    this.slowTimer = undefined
  }

  /** Moves the hot-path counters to Prometheus. */
  commitStats(): void {
    if (this.sentMessages > 0) {
      this.metrics.wsMessagesSent.inc(this.sentMessages)
      this.metrics.wsBytesSent.inc(this.sentBytes)
      this.sentMessages = 0
      this.sentBytes = 0
    }
    if (this.conflated > 0) {
      this.metrics.wsConflated.inc(this.conflated)
      this.conflated = 0
    }
  }

  /** Closes every connection with this code; sockets that have not finished closing after waitMs are cut. */
  async closeAll(code: number, reason: string, waitMs: number): Promise<void> {
    const sockets = [...this.connections].map((conn) => conn.ws)
    const closed = sockets.map(
      (ws) =>
        new Promise<void>((resolve) => (ws.readyState === 3 ? resolve() : ws.once('close', () => resolve()))),
    )
    for (const conn of [...this.connections]) conn.closeWith(code, reason)
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(closed),
      new Promise((resolve) => {
        timer = setTimeout(resolve, waitMs)
      }),
    ])
    clearTimeout(timer)
    for (const ws of sockets) if (ws.readyState !== 3) ws.terminate()
    this.commitStats()
  }

  stop(): void {
    this.stopSlowSweep()
    this.history.clear()
  }
}
