import { WebSocket } from 'ws'
import type { Quote } from '../../shared/quote.js'

/**
 * A lean stream client for load scenarios: keeps counters and samples, not frames. Records every
 * fresh quote's publish→receive latency (receive time − the quote's updatedAt, same machine clock),
 * the highest seq per asset, whether seq ever went back, and any quote with a bad price. A stale
 * quote keeps the updatedAt of its last fresh price, so it is counted, not timed.
 */
export class LiveClient {
  readonly ws: WebSocket
  /** Resolves once the socket has closed, with its close code. */
  readonly closed: Promise<number>
  closeCode: number | undefined
  quotes = 0
  frames = 0
  errors: string[] = []
  badPrices: string[] = []
  /** Quotes frames whose seq was not above the last one of the asset on this connection (equal or lower). */
  seqWentBack = 0
  /** Of those, how many repeated the last seq exactly (a duplicate, not an older quote). */
  seqRepeated = 0
  readonly lastSeq = new Map<string, number>()
  /** Receive time of the first quote with a seq above `resumeAbove`, once set. */
  resumedAt: number | undefined
  resumeAbove: number | undefined
  latencies: number[] = []
  recordLatency = false
  /** Stale-flagged quotes received while recording (left out of `latencies`). */
  staleQuotes = 0
  lastQuoteAt = 0
  /** Called with every quote received (quotes frames and snapshots). */
  onQuote: ((q: Quote, at: number) => void) | undefined

  private constructor(ws: WebSocket) {
    this.ws = ws
    ws.on('error', () => {})
    ws.on('message', (data: Buffer) => this.onMessage(data))
    this.closed = new Promise((resolve) =>
      ws.once('close', (code) => {
        this.closeCode = code
        resolve(code)
      }),
    )
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<LiveClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, headers })
    const client = new LiveClient(ws)
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client))
      ws.once('error', reject)
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)))
    })
  }

  subscribe(assets: string[]): void {
    this.ws.send(JSON.stringify({ op: 'subscribe', assets }))
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN
  }

  maxSeq(): number {
    let max = 0
    for (const s of this.lastSeq.values()) if (s > max) max = s
    return max
  }

  private onMessage(data: Buffer): void {
    const at = Date.now()
    this.frames++
    const frame = JSON.parse(data.toString()) as { type: string; quotes?: Quote[]; code?: string }
    if (frame.type === 'error') this.errors.push(String(frame.code))
    if (frame.type !== 'quotes' && frame.type !== 'snapshot') return
    for (const q of frame.quotes ?? []) {
      this.quotes++
      this.lastQuoteAt = at
      if (!(typeof q.price === 'number' && Number.isFinite(q.price) && q.price > 0))
        this.badPrices.push(`${q.asset}: ${q.price}`)
      const had = this.lastSeq.get(q.asset)
      if (frame.type === 'quotes') {
        if (had !== undefined && q.seq <= had) {
          this.seqWentBack++
          if (q.seq === had) this.seqRepeated++
        }
        if (this.recordLatency) {
          if (q.stale) this.staleQuotes++
          else this.latencies.push(at - q.updatedAt)
        }
        if (this.resumeAbove !== undefined && this.resumedAt === undefined && q.seq > this.resumeAbove)
          this.resumedAt = at
      }
      if (had === undefined || q.seq > had || frame.type === 'snapshot') this.lastSeq.set(q.asset, q.seq)
      this.onQuote?.(q, at)
    }
  }
}

/** Opens n clients, `parallel` at a time, each subscribed to the assets. */
export async function openClients(
  url: string,
  n: number,
  assets: string[],
  headers: (i: number) => Record<string, string> = () => ({}),
  parallel = 50,
): Promise<LiveClient[]> {
  const out: LiveClient[] = []
  for (let i = 0; i < n; i += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, n - i) }, (_, j) => LiveClient.open(url, headers(i + j))),
    )
    for (const c of batch) c.subscribe(assets)
    out.push(...batch)
  }
  return out
}
