import WebSocket from 'ws'
import { FakeExchange } from '../../tests/helpers/fake-exchange.js'
import { binanceDialect, FakeExchangeWs } from '../../tests/helpers/fake-exchange-ws.js'
import { epochClock } from '../lib/epoch-clock.js'
import { onCommand, reply } from '../lib/ipc.js'
import { priceOfTick, tickOfPrice } from '../lib/tick-prices.js'

/**
 * Load generator of the end-to-end benchmark, in its own process: a fake Binance (REST for start-up
 * and reconciliation, one ticker WebSocket per contender so each can be driven alone), the tick
 * pusher (tick n at priceOfTick(n), every send time-stamped on the shared epoch clock) and one
 * observer client per contender (a plain WebSocket subscriber beside the page, time-stamping each
 * quote as it leaves the server: the tick → server-out half of the path).
 */

type Target = 'pricewire' | 'relay'
const TARGETS: Target[] = ['pricewire', 'relay']

let market = ''
/** The price REST answers: the last tick pushed (so a reconciliation poll never moves the price). */
let currentPrice = priceOfTick(0)
let now = epochClock()
const streams = new Map<Target, FakeExchangeWs>()
/** Per observer: [tick, epoch ms received, quote.updatedAt]. */
const observed = new Map<Target, [number, number, number][]>()
const observers: WebSocket[] = []

function restRoutes(): FakeExchange {
  const row = () => ({
    symbol: market,
    lastPrice: String(currentPrice),
    openPrice: String(priceOfTick(0)),
    highPrice: String(currentPrice * 1.01),
    lowPrice: String(priceOfTick(0) * 0.99),
    priceChangePercent: '0',
    volume: '1000',
    quoteVolume: String(1000 * currentPrice),
    closeTime: Date.now(),
  })
  return new FakeExchange({
    '/api/v3/exchangeInfo': () => ({
      kind: 'json',
      body: { symbols: [{ symbol: market, status: 'TRADING', isSpotTradingAllowed: true }] },
    }),
    '/api/v3/ticker/24hr': () => ({ kind: 'json', body: [row()] }),
    '/api/v3/klines': ({ query }) => {
      const step = query.get('interval') === '1h' ? 3_600_000 : 300_000
      const n = Math.min(1000, Math.max(1, Number(query.get('limit')) || 1))
      const last = Math.floor(Date.now() / step) * step
      const c = String(priceOfTick(0))
      const body = Array.from({ length: n }, (_, i) => {
        const ts = last - (n - 1 - i) * step
        return [ts, c, c, c, c, '1000', ts + step - 1]
      })
      return { kind: 'json', body }
    },
  })
}

function subscribedConnections(target: Target) {
  const ws = streams.get(target)!
  return ws.open().filter((c) => ws.subscriptions(c).includes(market))
}

/** Pushes ticks first…first+count-1, each gap drawn in [minGapMs, maxGapMs], on an absolute schedule. */
async function pushTicks(target: Target, first: number, count: number, minGapMs: number, maxGapMs: number) {
  const sent: [number, number][] = []
  let due = performance.now()
  for (let i = 0; i < count; i++) {
    const wait = due - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    const n = first + i
    currentPrice = priceOfTick(n)
    const frame = JSON.stringify(binanceDialect.ticker(market, currentPrice))
    const conns = subscribedConnections(target)
    sent.push([n, now()])
    for (const c of conns) c.socket.send(frame)
    due += minGapMs + Math.random() * (maxGapMs - minGapMs)
  }
  return sent
}

function observe(target: Target, url: string, asset: string): Promise<void> {
  observed.set(target, [])
  const ws = new WebSocket(url, { perMessageDeflate: false })
  observers.push(ws)
  ws.on('message', (data) => {
    const t = now()
    let frame: { type?: string; quotes?: { price: number; updatedAt: number }[] }
    try {
      frame = JSON.parse(data.toString())
    } catch {
      return
    }
    for (const q of frame.quotes ?? []) {
      const n = tickOfPrice(q.price)
      if (n !== null) observed.get(target)!.push([n, t, q.updatedAt])
    }
  })
  ws.on('error', () => {})
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.send(JSON.stringify({ op: 'subscribe', assets: [asset] }))
      resolve()
    })
    ws.once('error', reject)
  })
}

onCommand(async (c) => {
  switch (c.cmd) {
    case 'start': {
      market = String(c.market)
      const rest = await restRoutes().start()
      for (const t of TARGETS) streams.set(t, await new FakeExchangeWs(binanceDialect).start())
      reply('ready', {
        restUrl: rest.url,
        wsUrls: Object.fromEntries(TARGETS.map((t) => [t, streams.get(t)!.url])),
      })
      return
    }
    case 'wait-subscribed': {
      const target = c.target as Target
      const deadline = Date.now() + Number(c.timeoutMs ?? 20_000)
      while (subscribedConnections(target).length === 0) {
        if (Date.now() > deadline)
          throw new Error(`${target}: no subscription to ${market} on the fake stream`)
        await new Promise((r) => setTimeout(r, 20))
      }
      reply('subscribed')
      return
    }
    case 'observe':
      await observe(c.target as Target, String(c.url), String(c.asset))
      reply('observing')
      return
    case 'ticks': {
      now = epochClock()
      const sent = await pushTicks(
        c.target as Target,
        Number(c.first),
        Number(c.count),
        Number(c.minGapMs),
        Number(c.maxGapMs),
      )
      reply('ticked', { sent })
      return
    }
    case 'collect': {
      const target = c.target as Target
      const frames = observed.get(target) ?? []
      observed.set(target, [])
      reply('observed', { frames })
      return
    }
  }
})
