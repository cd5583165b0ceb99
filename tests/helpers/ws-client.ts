import type { IncomingMessage } from 'node:http'
import { type ClientOptions, WebSocket } from 'ws'
import type { ServerFrame } from '../../shared/protocol.js'

export interface Closed {
  code: number
  reason: string
}

/**
 * A real `ws` client for stream tests: every frame received is kept (parsed and raw) and read in
 * order with next(); close() and closed report the close code.
 */
export class StreamClient {
  readonly frames: ServerFrame[] = []
  readonly raw: Buffer[] = []
  readonly closed: Promise<Closed>
  private cursor = 0
  private wake: (() => void) | undefined

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.raw.push(data)
      this.frames.push(JSON.parse(data.toString()) as ServerFrame)
      this.wake?.()
    })
    ws.on('error', () => {})
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() })
        this.wake?.()
      }),
    )
  }

  static open(url: string, options: ClientOptions = {}): Promise<StreamClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options })
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new StreamClient(ws)))
      ws.once('error', reject)
      ws.once('unexpected-response', (_req, res: IncomingMessage) =>
        reject(new Error(`unexpected response ${res.statusCode}`)),
      )
    })
  }

  /** Opens a socket the server is expected to refuse: the HTTP status and JSON body of the refusal. */
  static refused(url: string, options: ClientOptions = {}): Promise<{ status: number; body: unknown }> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options })
    ws.on('error', () => {})
    return new Promise((resolve, reject) => {
      ws.once('open', () => reject(new Error('the upgrade was accepted')))
      ws.once('unexpected-response', (_req, res: IncomingMessage) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString()
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null })
        })
      })
    })
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message))
  }

  /** The next frame not read yet (of this type, skipping others when given). */
  async next<T extends ServerFrame['type']>(
    type?: T,
    timeoutMs = 5_000,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      while (this.cursor < this.frames.length) {
        const frame = this.frames[this.cursor++]!
        if (type === undefined || frame.type === type) return frame as Extract<ServerFrame, { type: T }>
      }
      const left = deadline - Date.now()
      if (left <= 0 || this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(
          `no ${type ?? 'frame'} within ${timeoutMs} ms (got: ${this.frames.map((f) => f.type).join(', ') || 'nothing'})`,
        )
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.wake = () => {
          clearTimeout(timer)
          this.wake = undefined
          resolve()
        }
      })
    }
  }

  /** Frames not read yet after waiting ms (to assert that nothing came). */
  async unreadAfter(ms: number): Promise<ServerFrame[]> {
    await new Promise((r) => setTimeout(r, ms))
    const rest = this.frames.slice(this.cursor)
    this.cursor = this.frames.length
    return rest
  }

  /** Subscribes and returns the snapshot that answers it. */
  async subscribe(assets: string[], history?: '24h' | '7d') {
    this.send(history ? { op: 'subscribe', assets, history } : { op: 'subscribe', assets })
    return this.next('snapshot')
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN
  }

  close(): Promise<Closed> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close()
    return this.closed
  }

  terminate(): void {
    this.ws.terminate()
  }
}
