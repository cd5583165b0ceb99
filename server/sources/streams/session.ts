import WebSocket from 'ws'
import type { Metrics } from '../../metrics.js'
import type { StreamFrame, StreamProtocol } from './protocol.js'

export interface SessionOptions {
  url: string
  protocol: StreamProtocol
  markets: readonly string[]
  connectTimeoutMs: number
  /** No frame of any kind (data, pong, protocol-level ping) for this long: the socket is dead. */
  idleTimeoutMs: number
  /** Application ping interval (default: the protocol's). */
  pingIntervalMs?: number
  /** How long an application ping may wait for any answer before the socket is given up. */
  pongTimeoutMs: number
  metrics?: Metrics
  onOpen: (session: Session) => void
  onFrame: (frame: StreamFrame, session: Session) => void
  /** Called exactly once, however the session ends (including close() and terminate()). */
  onEnd: (session: Session, reason: string) => void
}

/**
 * One WebSocket connection to an exchange, from handshake to close: sends the subscribe messages
 * paced to the exchange's inbound rate limit, sends the application pings the exchange expects and
 * gives the socket up when nothing answers, and hands every text frame to the protocol's decoder.
 * Reconnecting is the owner's business (StreamConnection).
 */
export class Session {
  readonly openedAt: number
  connectedAt: number | undefined
  private readonly ws: WebSocket
  private readonly outbox: { text: string; onSent?: (at: number) => void }[] = []
  private lastSentAt = 0
  private lastFrameAt: number
  private sendTimer: NodeJS.Timeout | undefined
  private pingTimer: NodeJS.Timeout | undefined
  private pongTimer: NodeJS.Timeout | undefined
  private idleTimer: NodeJS.Timeout | undefined
  private killTimer: NodeJS.Timeout | undefined
  private ended = false
  private pingQueued = false

  constructor(private readonly opts: SessionOptions) {
    this.openedAt = Date.now()
    this.lastFrameAt = this.openedAt
    this.ws = new WebSocket(opts.url, {
      perMessageDeflate: false,
      handshakeTimeout: opts.connectTimeoutMs,
      // A ticker frame is small; anything huge is not one.
      maxPayload: 16 * 1024 * 1024,
    })
    this.ws.on('open', () => this.onOpen())
    this.ws.on('message', (data, isBinary) => this.onMessage(data, isBinary))
    this.ws.on('ping', () => this.touch())
    this.ws.on('pong', () => this.touch())
    this.ws.on('close', (code, reason) =>
      this.end(`closed by the server (${code}${reason.length ? ` ${reason}` : ''})`),
    )
    this.ws.on('error', (err) => {
      this.end(`socket error: ${err.message}`)
      this.ws.terminate()
    })
  }

  get isOpen(): boolean {
    return !this.ended && this.ws.readyState === WebSocket.OPEN
  }

  /** Queues a text message; messages leave at most one per protocol.sendGapMs. */
  send(text: string, onSent?: (at: number) => void): void {
    if (this.ended) return
    this.outbox.push({ text, onSent })
    this.flush()
  }

  /** Closes politely; a socket that does not finish the closing handshake soon is destroyed. */
  close(reason: string): void {
    if (this.ended) return
    this.end(reason)
    if (this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate()
      return
    }
    this.ws.close(1000)
    this.killTimer = setTimeout(() => this.ws.terminate(), 1000)
    this.killTimer.unref()
  }

  /** Drops the socket at once (dead peer, no time for a closing handshake). */
  terminate(reason: string): void {
    this.end(reason)
    this.ws.terminate()
  }

  private onOpen(): void {
    if (this.ended) return
    this.connectedAt = Date.now()
    this.opts.metrics?.streamConnections.inc({ source: this.opts.protocol.source })
    this.touch()
    for (const m of this.opts.protocol.subscribeMessages(this.opts.markets)) this.send(m)
    const pingMs = this.opts.pingIntervalMs ?? this.opts.protocol.ping?.intervalMs
    if (this.opts.protocol.ping && pingMs) {
      const message = this.opts.protocol.ping.message
      this.pingTimer = setInterval(() => this.sendPing(message()), pingMs)
    }
    this.armIdle()
    this.opts.onOpen(this)
  }

  /** Sends a ping; the answer deadline runs from when it actually leaves (sends are paced). */
  private sendPing(text: string): void {
    if (!this.isOpen || this.pingQueued) return
    this.pingQueued = true
    this.send(text, (sentAt) => {
      this.pingQueued = false
      if (this.pongTimer) return
      this.pongTimer = setTimeout(() => {
        this.pongTimer = undefined
        if (this.lastFrameAt < sentAt)
          this.terminate(`no answer to ping within ${this.opts.pongTimeoutMs} ms`)
      }, this.opts.pongTimeoutMs)
    })
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.ended) return
    const receivedAt = Date.now()
    this.lastFrameAt = receivedAt
    this.opts.metrics?.streamMessages.inc({ source: this.opts.protocol.source })
    const text = rawText(data)
    const frame: StreamFrame = isBinary
      ? { kind: 'invalid', reason: 'invalid_json', detail: 'binary frame' }
      : this.opts.protocol.decode(text, receivedAt, this.opts.metrics)
    this.opts.onFrame(frame, this)
  }

  private touch(): void {
    this.lastFrameAt = Date.now()
  }

  /** The dead-socket watchdog, re-armed lazily: one timer, however many frames arrive. */
  private armIdle(): void {
    if (this.ended) return
    const due = this.lastFrameAt + this.opts.idleTimeoutMs - Date.now()
    this.idleTimer = setTimeout(
      () => {
        if (Date.now() - this.lastFrameAt >= this.opts.idleTimeoutMs) {
          this.terminate(`no frame for ${this.opts.idleTimeoutMs} ms`)
        } else {
          this.armIdle()
        }
      },
      Math.max(1, due),
    )
  }

  private flush(): void {
    if (this.sendTimer || this.ws.readyState !== WebSocket.OPEN) return
    const wait = this.lastSentAt + this.opts.protocol.sendGapMs - Date.now()
    if (wait > 0) {
      this.sendTimer = setTimeout(() => {
        this.sendTimer = undefined
        this.flush()
      }, wait)
      return
    }
    const next = this.outbox.shift()
    if (next === undefined) return
    this.ws.send(next.text)
    this.lastSentAt = Date.now()
    next.onSent?.(this.lastSentAt)
    if (this.outbox.length > 0) this.flush()
  }

  private end(reason: string): void {
    if (this.ended) return
    this.ended = true
    if (this.connectedAt !== undefined)
      this.opts.metrics?.streamConnections.dec({ source: this.opts.protocol.source })
    this.outbox.length = 0
    for (const t of [this.sendTimer, this.pongTimer, this.idleTimer]) clearTimeout(t)
    clearInterval(this.pingTimer)
    this.opts.onEnd(this, reason)
  }
}

function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8')
  return data.toString('utf8')
}
