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
export const timing = { poll: 5_000, ping: 25_000 }

const DAY = 86_400_000
/** How old a series may get before it is fetched again over REST. */
const MAX_AGE: Record<HistoryWindow, number> = { '24h': 300_000, '7d': 1_800_000 }

/** The JSON body of a 2xx answer, `notFound` for a 404; anything else throws. */
const getJson = async (url: string, notFound?: unknown) => {
  const res = await fetch(url)
  if (res.status === 404 && notFound) return notFound
  if (!res.ok) throw new Error(`HTTP ${res.status}`)
  return res.json()
}

/**
 * One server: one WebSocket shared by every element on the page, subscriptions counted per asset,
 * a reconnect with exponential backoff and jitter, REST polling while the socket is down, and
 * nothing at all while the page is hidden (the snapshot on return catches up).
 * A closure rather than a class: its state is plain local variables.
 */
function openStream(base: string) {
  const watches = new Set<Watch>()
  const quotes = new Map<string, Quote>()
  const series = new Map<string, Series>()
  const refused = new Map<string, string>()
  /** Assets subscribed on the current socket → whether with 24h history. */
  const sent = new Map<string, boolean>()
  let ws: WebSocket | undefined
  let heard = 0
  let tries = 0
  let live: boolean | undefined
  let queued = false
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let pollTimer: ReturnType<typeof setInterval> | undefined
  let pingTimer: ReturnType<typeof setInterval> | undefined

  const each = (asset: string, call: (l: Listener, w: Watch) => void) => {
    for (const w of watches) if (w.assets.includes(asset)) call(w.listener, w)
  }

  /** Batches the changes of one task (elements connecting, moving, leaving) into one sync. */
  const schedule = () => {
    if (queued) return
    queued = true
    queueMicrotask(() => {
      queued = false
      sync()
    })
  }

  /** Asset → whether some watcher wants its 24h history. */
  const wanted = () => {
    const want = new Map<string, boolean>()
    for (const w of watches) for (const a of w.assets) want.set(a, want.get(a) || w.window === '24h')
    return want
  }

  const sync = () => {
    const want = wanted()
    if (!want.size || globalThis.document?.hidden) return stop()
    if (!ws && !retryTimer) connect()
    if (ws?.readyState === 1) {
      const plain: string[] = []
      const withHistory: string[] = []
      for (const [a, history] of want) {
        if (sent.has(a) && (sent.get(a) || !history)) continue
        ;(history ? withHistory : plain).push(a)
        sent.set(a, history)
      }
      const gone = [...sent.keys()].filter((a) => !want.has(a))
      for (const a of gone) sent.delete(a)
      // History first: its snapshot then lands before the plain one, which checks for missing series.
      send(withHistory, 'subscribe', '24h')
      send(plain, 'subscribe')
      send(gone, 'unsubscribe')
    } else if (pollTimer && [...want.keys()].some((a) => !quotes.has(a) && !refused.has(a))) {
      poll()
    }
    fetchHistory(ws ? '7d' : undefined)
  }

  const send = (assets: string[], op: string, history?: HistoryWindow) => {
    for (let i = 0; i < assets.length; i += 100) {
      ws!.send(JSON.stringify({ op, assets: assets.slice(i, i + 100), history }))
    }
  }

  const connect = () => {
    try {
      ws = new WebSocket(`${base.replace(/^http/, 'ws')}v1/stream`)
    } catch {
      return lost()
    }
    const socket = ws
    sent.clear()
    socket.onopen = sync
    socket.onclose = lost
    socket.onmessage = (e) => {
      try {
        frame(JSON.parse(e.data as string))
      } catch {
        // not a frame we understand: ignore it
      }
    }
    heard = Date.now()
    // Pings when quiet; a socket quiet for two periods is dead even if the browser has not noticed.
    pingTimer = setInterval(() => {
      const quiet = Date.now() - heard
      if (quiet > 2 * timing.ping) lost()
      else if (quiet >= timing.ping && socket.readyState === 1) socket.send('{"op":"ping"}')
    }, timing.ping / 2)
  }

  const drop = () => {
    clearInterval(pingTimer)
    sent.clear()
    if (ws) {
      ws.onclose = ws.onmessage = ws.onopen = null
      ws.close()
      ws = undefined
    }
  }

  /** The socket closed, failed or went quiet: poll REST now and try the socket again later. */
  const lost = () => {
    drop()
    const delay = Math.min(30_000, 500 * 2 ** tries++)
    retryTimer = setTimeout(
      () => {
        retryTimer = undefined
        sync()
      },
      delay / 2 + (Math.random() * delay) / 2,
    )
    if (!pollTimer) poll()
  }

  const stop = () => {
    drop()
    clearTimeout(retryTimer)
    clearInterval(pollTimer)
    retryTimer = pollTimer = undefined
  }

  const setLive = (now: boolean) => {
    if (live === now) return
    live = now
    for (const w of watches) w.listener.onStatus(now)
  }

  const frame = (f: ServerFrame) => {
    heard = Date.now()
    tries = 0
    clearInterval(pollTimer)
    pollTimer = undefined
    setLive(true)
    if (f.type === 'snapshot' || f.type === 'quotes') {
      for (const q of f.quotes) put(q)
      if (f.type === 'snapshot') {
        for (const [a, points] of Object.entries(f.history ?? {})) setSeries(a, '24h', points)
        fetchHistory()
      }
    } else if (f.type === 'history') {
      const s = series.get(`${f.asset} 24h`)
      if (s) {
        const points = s.points.filter(([t]) => t !== f.point[0] && t > f.point[0] - DAY)
        points.push(f.point)
        setSeries(
          f.asset,
          '24h',
          points.sort((a, b) => a[0] - b[0]),
        )
      }
    } else if (f.type === 'error') {
      for (const a of f.assets ?? []) refuse(a, f.message)
    }
  }

  /** Keeps a quote unless it is older than the one held (a restarted server may count seq from 0). */
  const put = (q: Quote) => {
    const old = quotes.get(q.asset)
    if (old && q.seq <= old.seq && q.updatedAt <= old.updatedAt) return
    quotes.set(q.asset, q)
    refused.delete(q.asset)
    each(q.asset, (l) => l.onQuote(q))
  }

  const refuse = (asset: string, message: string) => {
    refused.set(asset, message)
    each(asset, (l) => l.onError(asset, message))
  }

  const setSeries = (asset: string, window: HistoryWindow, points: HistoryPoint[]) => {
    series.set(`${asset} ${window}`, { points, at: Date.now() })
    each(asset, (l, w) => w.window === window && l.onHistory(asset, window, points))
  }

  /** Fetches over REST every wanted series that is missing or old (only the `only` window when given). */
  const fetchHistory = (only?: HistoryWindow) => {
    for (const { window, assets } of watches) {
      if (!window || (only && window !== only)) continue
      for (const a of assets) {
        const key = `${a} ${window}`
        const s = series.get(key)
        if (s && Date.now() - s.at < MAX_AGE[window]) continue
        // Marks the series as fresh while the request runs, so it is asked for once.
        series.set(key, { points: s?.points ?? [], at: Date.now() })
        getJson(`${base}v1/history/${encodeURIComponent(a)}?window=${window}`).then(
          (body: { points: HistoryPoint[] }) => setSeries(a, window, body.points),
          () => series.delete(key),
        )
      }
    }
  }

  const poll = () => {
    const round = async () => {
      const assets = [...wanted().keys()]
      try {
        // Unknown assets come back in `missing`; a 404 (all of them unknown) is the same answer.
        const body: { data: Quote[]; missing: string[] } = await getJson(
          `${base}v1/quotes?assets=${assets.map(encodeURIComponent).join(',')}`,
          { data: [], missing: assets },
        )
        for (const q of body.data) put(q)
        for (const a of body.missing) refuse(a, `Unknown asset "${a}"`)
        setLive(true)
        fetchHistory()
      } catch {
        setLive(false)
      }
    }
    clearInterval(pollTimer)
    pollTimer = setInterval(round, timing.poll)
    round()
  }

  globalThis.document?.addEventListener('visibilitychange', () => {
    tries = 0
    schedule()
  })

  return (watch: Watch) => {
    watches.add(watch)
    const { assets, listener, window } = watch
    for (const a of assets) {
      const q = quotes.get(a)
      if (q) listener.onQuote(q)
      const s = window && series.get(`${a} ${window}`)
      if (s) listener.onHistory(a, window, s.points)
      const refusal = refused.get(a)
      if (refusal) listener.onError(a, refusal)
    }
    if (live !== undefined) listener.onStatus(live)
    schedule()
    return () => {
      watches.delete(watch)
      schedule()
    }
  }
}

const streams = new Map<string, ReturnType<typeof openStream>>()

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
  const stream = streams.get(base) ?? openStream(base)
  streams.set(base, stream)
  return stream({ assets, listener, window })
}
