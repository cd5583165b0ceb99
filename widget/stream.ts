import type { ServerFrame } from '../shared/protocol.js'
import type { HistoryPoint, HistoryWindow, Quote } from '../shared/quote.js'

/** What an element hears from its server. Callbacks may run synchronously inside `watch`. */
export interface Listener {
  onQuote(quote: Quote): void
  /** The whole series for one asset and window, oldest first, each time it changes. */
  onHistory(asset: string, window: HistoryWindow, points: HistoryPoint[]): void
  /** The server refused this asset (unknown_assets, or missing from a REST answer). */
  onError(asset: string, message: string): void
  /** Whether prices are arriving (false while the server cannot be reached). */
  onStatus(live: boolean): void
}

interface Watch {
  assets: readonly string[]
  listener: Listener
  window: HistoryWindow | undefined
}

interface Series {
  points: HistoryPoint[]
  at: number
}

/** Tunables in ms; tests shorten them. */
export const timing = { poll: 5_000, backoff: 500, maxBackoff: 30_000, ping: 25_000 }

const DAY = 86_400_000
/** How old a series may get before it is fetched again over REST. */
const MAX_AGE: Record<HistoryWindow, number> = { '24h': 300_000, '7d': 1_800_000 }

const getJson = async (url: string) => {
  const res = await fetch(url)
  if (!res.ok && res.status !== 404) throw new Error(`HTTP ${res.status}`)
  return res.json()
}

/**
 * One server: one WebSocket shared by every element on the page, subscriptions counted per asset,
 * a reconnect with exponential backoff and jitter, and REST polling while the socket is down.
 */
class Stream {
  private watches = new Set<Watch>()
  private quotes = new Map<string, Quote>()
  private series = new Map<string, Series>()
  private refused = new Map<string, string>()
  /** Assets subscribed on the current socket → with 24h history. */
  private sent = new Map<string, boolean>()
  private ws: WebSocket | undefined
  private heard = 0
  private tries = 0
  private live: boolean | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private pollTimer: ReturnType<typeof setInterval> | undefined
  private pingTimer: ReturnType<typeof setInterval> | undefined
  private queued = false

  constructor(private readonly base: string) {
    globalThis.document?.addEventListener('visibilitychange', () => {
      this.tries = 0
      this.schedule()
    })
  }

  watch(watch: Watch): () => void {
    this.watches.add(watch)
    for (const a of watch.assets) {
      const q = this.quotes.get(a)
      if (q) watch.listener.onQuote(q)
      const series = watch.window && this.series.get(`${a} ${watch.window}`)
      if (series) watch.listener.onHistory(a, watch.window!, series.points)
      const refusal = this.refused.get(a)
      if (refusal) watch.listener.onError(a, refusal)
    }
    if (this.live !== undefined) watch.listener.onStatus(this.live)
    this.schedule()
    return () => {
      this.watches.delete(watch)
      this.schedule()
    }
  }

  /** Batches the changes of one task (elements connecting, moving, leaving) into one sync. */
  private schedule() {
    if (this.queued) return
    this.queued = true
    queueMicrotask(() => {
      this.queued = false
      this.sync()
    })
  }

  /** Asset → whether some watcher wants its 24h history. */
  private wanted() {
    const want = new Map<string, boolean>()
    for (const w of this.watches) for (const a of w.assets) want.set(a, want.get(a) || w.window === '24h')
    return want
  }

  private sync() {
    const want = this.wanted()
    if (!want.size || globalThis.document?.hidden) return this.stop()
    if (!this.ws && !this.retryTimer) this.connect()
    if (this.ws?.readyState === 1) {
      const plain: string[] = []
      const withHistory: string[] = []
      for (const [a, history] of want) {
        if (this.sent.has(a) && (this.sent.get(a) || !history)) continue
        ;(history ? withHistory : plain).push(a)
        this.sent.set(a, history)
      }
      const gone = [...this.sent.keys()].filter((a) => !want.has(a))
      for (const a of gone) this.sent.delete(a)
      // History first: its snapshot then lands before the plain one, which checks for missing series.
      this.send(withHistory, 'subscribe', '24h')
      this.send(plain, 'subscribe')
      this.send(gone, 'unsubscribe')
    } else if (this.pollTimer && [...want.keys()].some((a) => !this.quotes.has(a) && !this.refused.has(a))) {
      this.poll()
    }
    this.fetchHistory(this.ws ? '7d' : undefined)
  }

  private send(assets: string[], op: string, history?: HistoryWindow) {
    for (let i = 0; i < assets.length; i += 100) {
      this.ws!.send(JSON.stringify({ op, assets: assets.slice(i, i + 100), history }))
    }
  }

  private connect() {
    let ws: WebSocket
    try {
      ws = new WebSocket(`${this.base.replace(/^http/, 'ws')}v1/stream`)
    } catch {
      return this.lost()
    }
    this.ws = ws
    this.sent.clear()
    ws.onopen = () => this.sync()
    ws.onclose = () => this.lost()
    ws.onmessage = (e) => {
      try {
        this.frame(JSON.parse(e.data as string))
      } catch {
        // not a frame we understand: ignore it
      }
    }
    this.heard = Date.now()
    this.pingTimer = setInterval(() => {
      const quiet = Date.now() - this.heard
      if (quiet > 2 * timing.ping) this.lost()
      else if (quiet >= timing.ping && ws.readyState === 1) ws.send('{"op":"ping"}')
    }, timing.ping / 2)
  }

  private drop() {
    const ws = this.ws
    this.ws = undefined
    this.sent.clear()
    clearInterval(this.pingTimer)
    if (ws) {
      ws.onclose = ws.onmessage = ws.onopen = null
      ws.close()
    }
  }

  /** The socket closed, failed or went quiet: poll REST now and try the socket again later. */
  private lost() {
    this.drop()
    const delay = Math.min(timing.maxBackoff, timing.backoff * 2 ** this.tries++)
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined
        this.sync()
      },
      delay / 2 + (Math.random() * delay) / 2,
    )
    if (!this.pollTimer) this.poll()
  }

  private stop() {
    this.drop()
    clearTimeout(this.retryTimer)
    clearInterval(this.pollTimer)
    this.retryTimer = this.pollTimer = undefined
  }

  private setLive(live: boolean) {
    if (this.live === live) return
    this.live = live
    for (const w of this.watches) w.listener.onStatus(live)
  }

  private frame(f: ServerFrame) {
    this.heard = Date.now()
    this.tries = 0
    clearInterval(this.pollTimer)
    this.pollTimer = undefined
    this.setLive(true)
    if (f.type === 'snapshot' || f.type === 'quotes') {
      for (const q of f.quotes) this.put(q)
      if (f.type === 'snapshot') {
        for (const [a, points] of Object.entries(f.history ?? {})) this.setSeries(a, '24h', points)
        this.fetchHistory()
      }
    } else if (f.type === 'history') {
      const s = this.series.get(`${f.asset} 24h`)
      if (s) {
        const points = s.points.filter(([t]) => t !== f.point[0] && t > f.point[0] - DAY)
        points.push(f.point)
        this.setSeries(
          f.asset,
          '24h',
          points.sort((a, b) => a[0] - b[0]),
        )
      }
    } else if (f.type === 'error') {
      for (const a of f.assets ?? []) this.refuse(a, f.message)
    }
  }

  private put(q: Quote) {
    const old = this.quotes.get(q.asset)
    if (old && q.seq <= old.seq && q.updatedAt <= old.updatedAt) return
    this.quotes.set(q.asset, q)
    this.refused.delete(q.asset)
    for (const w of this.watches) if (w.assets.includes(q.asset)) w.listener.onQuote(q)
  }

  private refuse(asset: string, message: string) {
    this.refused.set(asset, message)
    for (const w of this.watches) if (w.assets.includes(asset)) w.listener.onError(asset, message)
  }

  private setSeries(asset: string, window: HistoryWindow, points: HistoryPoint[]) {
    this.series.set(`${asset} ${window}`, { points, at: Date.now() })
    for (const w of this.watches) {
      if (w.window === window && w.assets.includes(asset)) w.listener.onHistory(asset, window, points)
    }
  }

  /** Fetches over REST every wanted series that is missing or old (only `only` when given). */
  private fetchHistory(only?: HistoryWindow) {
    for (const w of this.watches) {
      const window = w.window
      if (!window || (only && window !== only)) continue
      for (const a of w.assets) {
        const key = `${a} ${window}`
        const s = this.series.get(key)
        if (s && Date.now() - s.at < MAX_AGE[window]) continue
        // Marks the series as fresh while the request runs, so it is asked once.
        this.series.set(key, { points: s?.points ?? [], at: Date.now() })
        getJson(`${this.base}v1/history/${encodeURIComponent(a)}?window=${window}`).then(
          (body: { points?: HistoryPoint[] }) => body.points && this.setSeries(a, window, body.points),
          () => this.series.delete(key),
        )
      }
    }
  }

  private poll() {
    const round = async () => {
      const assets = [...this.wanted().keys()]
      if (!assets.length) return
      try {
        const body: { data?: Quote[]; missing?: string[]; error?: { message: string } } = await getJson(
          `${this.base}v1/quotes?assets=${assets.map(encodeURIComponent).join(',')}`,
        )
        for (const q of body.data ?? []) this.put(q)
        for (const a of body.missing ?? (body.data ? [] : assets)) {
          this.refuse(a, body.error?.message ?? `Unknown asset "${a}"`)
        }
        this.setLive(true)
        this.fetchHistory()
      } catch {
        this.setLive(false)
      }
    }
    clearInterval(this.pollTimer)
    this.pollTimer = setInterval(round, timing.poll)
    round()
  }
}

const streams = new Map<string, Stream>()

/**
 * Subscribes a listener to some assets of the server at `base` (a URL ending in '/'), with the
 * history of `window` when given. Returns the unsubscribe function.
 */
export function watch(
  base: string,
  assets: readonly string[],
  listener: Listener,
  window?: HistoryWindow,
): () => void {
  let stream = streams.get(base)
  if (!stream) streams.set(base, (stream = new Stream(base)))
  return stream.watch({ assets, listener, window })
}
