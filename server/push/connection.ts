import type { RawData, WebSocket } from 'ws'
import {
  CLOSE_CODES,
  ClientMessage,
  type ErrorCode,
  type SubscribeMessage,
  type UnsubscribeMessage,
} from '../../shared/protocol.js'
import { errorFrame, PONG_FRAME, quotesFrame, snapshotFrame } from './frames.js'
import type { Hub } from './hub.js'

const CONNECTION = Symbol('pricewire.connection')
type TaggedSocket = WebSocket & { [CONNECTION]?: Connection }

const KNOWN_OPS = new Set(['subscribe', 'unsubscribe', 'ping'])
const TEXT = { binary: false }
const OPEN = 1

/**
 * One client socket: its subscriptions, its outgoing queue (the socket's buffer, plus the newest
 * quote per asset while the socket is slow), heartbeat state and abuse counters.
 *
 * Kept lean for many thousands of sockets: plain fields, no timers (the hub's heartbeat and slow
 * sweep serve every connection), and socket listeners shared by all connections (module-level
 * functions that find their connection through a symbol on the socket).
 */
export class Connection {
  /** Hub scratch: the batch chunk this connection was last collected in, and which quotes of it. */
  epoch = 0
  mask = 0
  readonly subs = new Set<string>()
  /** Conflated quote fragments by asset, while the socket is slow or a snapshot is being prepared. */
  private pending: Map<string, string> | null = null
  private pendingHistory: Map<string, Buffer> | null = null
  private pendingBytes = 0
  /**
   * Seq per asset of snapshot quotes the hub had not delivered yet (the mirror is updated when the
   * leader stores a quote, before the bus brings it back): that delivery is skipped for this
   * connection, so seq only goes up on it. Null when none.
   */
  ahead: Map<string, number> | null = null
  /** Snapshots being prepared (history reads in flight); live updates wait behind them. */
  private holds = 0
  private overHardSince = 0
  /** Payload bytes handed to the socket, ever; with bufferedAmount it tells how much the client took. */
  private written = 0
  private drained = 0
  /** While behind: when the client last took any byte (0 when not being swept). */
  private progressAt = 0
  readonly openedAt = Date.now()
  /** When the unanswered heartbeat ping was sent; 0 when none is outstanding. */
  pingSentAt = 0
  private tokens: number
  private tokensAt: number
  private badFrames = 0
  private badSince = 0
  closed = false

  constructor(
    readonly ws: WebSocket,
    readonly ip: string,
    readonly hub: Hub,
  ) {
    this.tokens = hub.limits.messageBurst
    this.tokensAt = Date.now()
    ;(ws as TaggedSocket)[CONNECTION] = this
    ws.on('message', onMessage)
    ws.on('pong', onPong)
    ws.on('close', onClose)
    ws.on('error', onError)
  }

  // ── outgoing ────────────────────────────────────────────────────────────

  /** A quotes frame shared by every connection with the same quotes in this chunk (bits of mask). */
  deliverQuotes(frame: Buffer, assets: readonly string[], fragments: readonly string[], mask: number): void {
    if (
      this.pending === null &&
      this.holds === 0 &&
      this.ws.bufferedAmount <= this.hub.limits.queueSoftBytes
    ) {
      this.write(frame)
      return
    }
    let bit = 1
    for (let i = 0; i < assets.length; i++, bit *= 2) {
      if (Math.floor(mask / bit) % 2 === 1) this.parkQuote(assets[i]!, fragments[i]!)
    }
    this.tryFlush()
  }

  deliverHistory(asset: string, frame: Buffer): void {
    if (
      this.pending === null &&
      this.pendingHistory === null &&
      this.holds === 0 &&
      this.ws.bufferedAmount <= this.hub.limits.queueSoftBytes
    ) {
      this.write(frame)
      return
    }
    this.pendingHistory ??= new Map()
    const had = this.pendingHistory.get(asset)
    if (had !== undefined) this.pendingBytes -= had.length
    this.pendingHistory.set(asset, frame)
    this.pendingBytes += frame.length
    this.hub.markSlow(this)
    this.tryFlush()
  }

  private parkQuote(asset: string, fragment: string): void {
    if (this.pending === null) {
      this.pending = new Map()
      this.hub.markSlow(this)
    }
    const had = this.pending.get(asset)
    if (had !== undefined) {
      this.pendingBytes -= had.length
      this.hub.conflated++
    }
    this.pending.set(asset, fragment)
    this.pendingBytes += fragment.length
  }

  private dropParked(asset: string): void {
    const quote = this.pending?.get(asset)
    if (quote !== undefined) {
      this.pending!.delete(asset)
      this.pendingBytes -= quote.length
    }
    const history = this.pendingHistory?.get(asset)
    if (history !== undefined) {
      this.pendingHistory!.delete(asset)
      this.pendingBytes -= history.length
    }
  }

  /** Writes what is parked once the socket has drained (below half the soft limit). True while still parked. */
  private tryFlush(): boolean {
    if (this.closed) return false
    if (this.pending === null && this.pendingHistory === null) return false
    if (this.holds > 0 || this.ws.bufferedAmount > this.hub.limits.queueSoftBytes / 2) return true
    const quotes = this.pending
    const history = this.pendingHistory
    this.pending = null
    this.pendingHistory = null
    this.pendingBytes = 0
    if (quotes !== null && quotes.size > 0) this.write(quotesFrame(quotes.values()))
    if (history !== null) for (const frame of history.values()) this.write(frame)
    return false
  }

  /**
   * Called by the hub's slow sweep. Flushes when drained; over the hard limit stops reading the
   * client's frames (no new work for a client that takes none) and, past the grace period, closes
   * 4008. False once the connection needs no more sweeping.
   */
  checkSlow(now: number): boolean {
    if (this.closed) return false
    const parked = this.tryFlush()
    const { queueHardBytes, queueSoftBytes, slowGraceMs } = this.hub.limits
    const buffered = this.ws.bufferedAmount
    const bytes = buffered + this.pendingBytes
    // Progress: bytes left the socket's buffer (a write only ever lowers this difference), or it is
    // empty (updates held behind a snapshot being prepared are not the client's fault).
    const drained = this.written - buffered
    if (this.progressAt === 0 || drained > this.drained || buffered === 0) this.progressAt = now
    this.drained = drained
    if (bytes > queueHardBytes) {
      if (this.overHardSince === 0) {
        this.overHardSince = now
        this.ws.pause()
      } else if (now - this.overHardSince >= slowGraceMs) return this.closeSlow()
      return true
    }
    if (this.overHardSince !== 0) {
      this.overHardSince = 0
      this.ws.resume()
    }
    const behind = parked || bytes > queueSoftBytes
    // Behind and taking nothing at all (a client that never reads, whose kernel buffers are full):
    // conflation keeps its queue under the hard limit, so that rule alone would never close it.
    if (behind && now - this.progressAt >= slowGraceMs) return this.closeSlow()
    if (!behind) this.progressAt = 0
    return behind
  }

  private closeSlow(): false {
    this.hub.metrics.wsSlowConsumerCloses.inc()
    this.closeWith(CLOSE_CODES.slowConsumer, 'slow consumer')
    return false
  }

  /** Outgoing bytes held for this client: the socket's buffer plus parked updates. */
  queuedBytes(): number {
    return this.ws.bufferedAmount + this.pendingBytes
  }

  private write(data: Buffer | string): void {
    if (this.closed) return
    this.ws.send(data, TEXT)
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length
    this.written += size
    this.hub.sentMessages++
    this.hub.sentBytes += size
    const buffered = this.ws.bufferedAmount
    if (buffered <= this.hub.limits.queueSoftBytes) return
    this.hub.markSlow(this)
    // Over the hard limit already (snapshots are never conflated): stop reading this client's
    // requests now, not at the next sweep, so it cannot order more snapshots meanwhile.
    if (buffered > this.hub.limits.queueHardBytes && this.overHardSince === 0) {
      this.overHardSince = Date.now()
      this.ws.pause()
    }
  }

  private sendError(code: ErrorCode, message: string, assets?: readonly string[]): void {
    this.hub.metrics.wsErrorsSent.inc({ code })
    this.write(errorFrame(code, message, assets))
  }

  // ── incoming ────────────────────────────────────────────────────────────

  receive(data: Buffer, isBinary: boolean): void {
    if (this.closed) return
    const limits = this.hub.limits
    const now = Date.now()
    this.tokens = Math.min(
      limits.messageBurst,
      this.tokens + ((now - this.tokensAt) * limits.messagesPerSec) / 1000,
    )
    this.tokensAt = now
    if (this.tokens < 1) {
      this.reject(now, 'rate_limited', `more than ${limits.messagesPerSec} messages per second; slow down`)
      return
    }
    this.tokens -= 1
    if (isBinary) {
      this.reject(now, 'invalid_message', 'binary frames are not accepted: send JSON text frames')
      return
    }
    if (data.length > limits.maxPayload) {
      this.reject(
        now,
        'frame_too_large',
        `a frame may have at most ${limits.maxPayload} bytes; this one has ${data.length}`,
      )
      return
    }
    let json: unknown
    try {
      json = JSON.parse(data.toString('utf8'))
    } catch (err) {
      this.reject(now, 'invalid_json', `the frame is not valid JSON: ${(err as Error).message}`)
      return
    }
    const parsed = ClientMessage.safeParse(json)
    if (!parsed.success) {
      const op = (json as { op?: unknown } | null)?.op
      if (typeof json === 'object' && json !== null && typeof op === 'string' && !KNOWN_OPS.has(op)) {
        this.reject(
          now,
          'unknown_op',
          `unknown op ${JSON.stringify(op.slice(0, 40))}: use subscribe, unsubscribe or ping`,
        )
        return
      }
      const issue = parsed.error.issues[0]!
      const where = issue.path.length ? issue.path.join('.') : 'message'
      this.reject(now, 'invalid_message', `${where}: ${issue.message}`)
      return
    }
    const msg = parsed.data
    if (msg.op === 'subscribe') this.subscribe(msg)
    else if (msg.op === 'unsubscribe') this.unsubscribe(msg)
    else this.write(PONG_FRAME)
  }

  /** An error frame for a bad frame; too many bad frames within the window close the socket 1008. */
  private reject(now: number, code: ErrorCode, message: string): void {
    this.sendError(code, message)
    const { maxBadFrames, badFrameWindowMs } = this.hub.limits
    if (now - this.badSince > badFrameWindowMs) {
      this.badSince = now
      this.badFrames = 0
    }
    if (++this.badFrames > maxBadFrames) {
      this.hub.logger.info({ ip: this.ip, code }, 'closing a stream connection that keeps sending bad frames')
      this.closeWith(CLOSE_CODES.policyViolation, 'too many invalid frames')
    }
  }

  /**
   * Subscribes the known assets (up to the limit) and answers with one snapshot of the newly
   * subscribed ones. With `history`, the snapshot carries the window of every known asset named,
   * already subscribed ones too, so a client can ask for a sparkline later.
   */
  private subscribe(msg: SubscribeMessage): void {
    const { registry, limits } = this.hub
    const unknown: string[] = []
    const refused: string[] = []
    const added: string[] = []
    const named: string[] = []
    for (const name of new Set(msg.assets)) {
      const asset = registry.resolve(name)?.id
      if (asset === undefined) {
        unknown.push(name)
        continue
      }
      if (named.includes(asset)) continue
      if (this.subs.has(asset)) named.push(asset)
      else if (this.subs.size >= limits.maxSubscriptions) refused.push(name)
      else {
        this.hub.subscribe(this, asset)
        added.push(asset)
        named.push(asset)
      }
    }
    if (unknown.length) this.sendError('unknown_assets', `unknown assets: ${unknown.join(', ')}`, unknown)
    if (refused.length) {
      this.sendError(
        'too_many_subscriptions',
        `at most ${limits.maxSubscriptions} subscriptions per connection; not subscribed: ${refused.join(', ')}`,
        refused,
      )
    }
    const window = msg.history
    if (window === undefined) {
      if (added.length) this.writeSnapshot(added)
      return
    }
    if (named.length === 0) return
    // Updates wait until the snapshot (with its history) is out, so they never overtake it.
    this.holds++
    void Promise.all(named.map((asset) => this.hub.history.get(asset, window))).then((points) => {
      this.holds--
      if (this.closed) return
      const history = new Map<string, string>()
      for (let i = 0; i < named.length; i++) {
        const json = points[i]
        if (json !== null && json !== undefined && this.subs.has(named[i]!)) history.set(named[i]!, json)
      }
      this.writeSnapshot(added, history)
      this.tryFlush()
      this.hub.commitStats()
    })
  }

  /** The newest quotes of these assets as of now; anything parked for them is older and dropped. */
  private writeSnapshot(assets: readonly string[], history?: ReadonlyMap<string, string>): void {
    const now = Date.now()
    const ready = this.hub.engine.readiness().ready
    const fragments: string[] = []
    for (const asset of assets) {
      if (!this.subs.has(asset)) continue
      const fragment = this.hub.snapshotFragment(asset, now, ready)
      if (fragment === undefined) continue
      fragments.push(fragment)
      this.dropParked(asset)
      const seq = this.hub.engine.latest(asset)!.seq
      if (this.hub.deliveredSeq.get(asset) !== seq) {
        this.ahead ??= new Map()
        this.ahead.set(asset, seq)
      }
    }
    this.write(snapshotFrame(fragments, history))
  }

  /** Whether the snapshot already had this quote (or a newer one); forgets the asset once past it. */
  hadInSnapshot(asset: string, seq: number): boolean {
    const sent = this.ahead!.get(asset)
    if (sent === undefined) return false
    this.ahead!.delete(asset)
    if (this.ahead!.size === 0) this.ahead = null
    // A quote newer than the snapshot's goes out; the in-flight one it already had does not.
    if (seq > sent) return false
    return true
  }

  private unsubscribe(msg: UnsubscribeMessage): void {
    for (const name of msg.assets) {
      const asset = this.hub.registry.resolve(name)?.id
      if (asset === undefined || !this.subs.has(asset)) continue
      this.hub.unsubscribe(this, asset)
      this.ahead?.delete(asset)
      this.dropParked(asset)
    }
  }

  // ── lifecycle ───────────────────────────────────────────────────────────

  /** Sends a heartbeat ping (the hub's heartbeat calls this for every connection). */
  ping(now: number): void {
    if (this.ws.readyState !== OPEN) return
    this.pingSentAt = now
    this.ws.ping()
  }

  /** Closes with a code; the connection leaves the hub at once, the socket when the handshake ends. */
  closeWith(code: number, reason: string): void {
    this.dispose()
    if (this.ws.isPaused) this.ws.resume()
    this.ws.close(code, reason)
  }

  terminate(): void {
    this.dispose()
    this.ws.terminate()
  }

  /** Leaves the hub and drops everything parked. Idempotent. */
  dispose(): void {
    if (this.closed) return
    this.closed = true
    this.pending = null
    this.pendingHistory = null
    this.pendingBytes = 0
    this.hub.remove(this)
  }
}

function connectionOf(ws: WebSocket): Connection | undefined {
  return (ws as TaggedSocket)[CONNECTION]
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  connectionOf(this)?.receive(data as Buffer, isBinary)
  connectionOf(this)?.hub.commitStats()
}

function onPong(this: WebSocket): void {
  const conn = connectionOf(this)
  if (conn) conn.pingSentAt = 0
}

function onClose(this: WebSocket): void {
  connectionOf(this)?.dispose()
}

function onError(this: WebSocket, err: Error): void {
  connectionOf(this)?.hub.logger.debug({ err: err.message }, 'stream socket error')
}
