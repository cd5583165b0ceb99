import { tickOfPrice } from './tick-prices.js'

/**
 * Joins what each observer of the end-to-end path saw into one trace per tick: when the fake exchange
 * sent it, when the server computed its quote (quote.updatedAt), when the server's frame reached a
 * plain subscriber (the observer beside the page), when the page's socket got it, when its price text
 * appeared in the DOM and the next animation frame after that. All times are epoch ms on one machine.
 */

export interface PageRecords {
  /** [tick, t]: a new price text appeared (MutationObserver). */
  dom: [number, number][]
  /** [tick, t]: the first animation frame after it appeared. */
  paint: [number, number][]
  /** [t, raw frame text]: a message event on the page's WebSocket (before the widget handles it). */
  ws: [number, string][]
}

export interface TickTrace {
  tick: number
  sent: number
  computed?: number
  serverOut?: number
  pageIn?: number
  dom?: number
  paint?: number
  /** The first time the DOM showed this tick's price or a newer one. */
  domOrNewer?: number
}

function firstByTick(records: Iterable<[number, number]>): Map<number, number> {
  const out = new Map<number, number>()
  for (const [n, t] of records) if (!out.has(n)) out.set(n, t)
  return out
}

export function traceTicks(
  sent: readonly [number, number][],
  observed: readonly [number, number, number][],
  page: PageRecords,
): TickTrace[] {
  const serverOut = firstByTick(observed.map(([n, t]) => [n, t] as [number, number]))
  const computed = new Map<number, number>()
  for (const [n, , updatedAt] of observed) if (!computed.has(n)) computed.set(n, updatedAt)
  const pageIn = firstByTick(
    page.ws.flatMap(([t, data]) => {
      try {
        const frame = JSON.parse(data) as { quotes?: { price: number }[] }
        return (frame.quotes ?? []).flatMap((q) => {
          const n = tickOfPrice(q.price)
          return n === null ? [] : [[n, t] as [number, number]]
        })
      } catch {
        return []
      }
    }),
  )
  const dom = firstByTick(page.dom)
  const paint = firstByTick(page.paint)
  const domInOrder = [...page.dom].sort((a, b) => a[1] - b[1])
  return sent.map(([tick, t]) => ({
    tick,
    sent: t,
    computed: computed.get(tick),
    serverOut: serverOut.get(tick),
    pageIn: pageIn.get(tick),
    dom: dom.get(tick),
    paint: paint.get(tick),
    domOrNewer: domInOrder.find(([n, at]) => n >= tick && at >= t)?.[1],
  }))
}

/** Differences b - a over the traces that have both stages. */
export function stage(traces: readonly TickTrace[], from: keyof TickTrace, to: keyof TickTrace): number[] {
  const out: number[] = []
  for (const tr of traces) {
    const a = tr[from]
    const b = tr[to]
    if (a !== undefined && b !== undefined) out.push(b - a)
  }
  return out
}
