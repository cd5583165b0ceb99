import type { AddressInfo } from 'node:net'
import { type WebSocket, WebSocketServer } from 'ws'

/** One client connection as the fake saw it. */
export interface FakeWsConnection {
  index: number
  /** Request path with query, e.g. /stream or /ws/v5/public. */
  path: string
  socket: WebSocket
  /** Every text message the client sent, in order. */
  received: string[]
  openedAt: number
  closedAt: number | undefined
  /** Payloads of the protocol-level pongs the client sent (answers to ping()). */
  pongs: string[]
}

/** How a fake answers what clients send: the exchange's acks and pongs, and its push format. */
export interface WsDialect {
  /** Replies to one client message (each string or object sent as one text frame). */
  reply(message: string): (string | object)[]
  /** One ticker push for a market at a price, in the exchange's format. */
  ticker(market: string, price: number, now?: number): object
  /** The markets a client subscribed to with this message (empty if it is not a subscription). */
  subscribedMarkets(message: string): string[]
}

/**
 * A real local WebSocket server that speaks an exchange's stream format: logs every connection and
 * message, answers subscriptions and application pings as the exchange does (switchable off, to play
 * a dead or silent exchange), pushes what a test tells it to, and closes connections server-side.
 */
export class FakeExchangeWs {
  readonly connections: FakeWsConnection[] = []
  /** When false, client messages get no reply at all (no acks, no pongs). */
  answering = true
  private server: WebSocketServer | undefined
  private port = 0
  private pump: NodeJS.Timeout | undefined

  constructor(readonly dialect: WsDialect) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}`
  }

  async start(port = 0): Promise<this> {
    const server = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('listening', () => resolve())
      server.once('error', reject)
    })
    this.port = (server.address() as AddressInfo).port
    server.on('connection', (socket, req) => {
      const conn: FakeWsConnection = {
        index: this.connections.length,
        path: req.url ?? '/',
        socket,
        received: [],
        openedAt: Date.now(),
        closedAt: undefined,
        pongs: [],
      }
      this.connections.push(conn)
      socket.on('message', (data) => {
        const text = data.toString()
        conn.received.push(text)
        if (!this.answering) return
        for (const r of this.dialect.reply(text)) socket.send(typeof r === 'string' ? r : JSON.stringify(r))
      })
      socket.on('pong', (data) => conn.pongs.push(data.toString()))
      socket.on('close', () => {
        conn.closedAt = Date.now()
      })
      socket.on('error', () => {})
    })
    return this
  }

  /** Connections still open. */
  open(): FakeWsConnection[] {
    return this.connections.filter((c) => c.closedAt === undefined && c.socket.readyState === c.socket.OPEN)
  }

  /** Markets each open connection subscribed to. */
  subscriptions(conn: FakeWsConnection): string[] {
    return conn.received.flatMap((m) => this.dialect.subscribedMarkets(m))
  }

  /** Sends a frame (object as JSON, string as is) to every open connection, or to one. */
  send(frame: string | object, conn?: FakeWsConnection): void {
    const text = typeof frame === 'string' ? frame : JSON.stringify(frame)
    for (const c of conn ? [conn] : this.open())
      if (c.socket.readyState === c.socket.OPEN) c.socket.send(text)
  }

  /** Pushes a ticker for `market` to every open connection subscribed to it. */
  pushTicker(market: string, price: number): void {
    const frame = JSON.stringify(this.dialect.ticker(market, price))
    for (const c of this.open()) if (this.subscriptions(c).includes(market)) c.socket.send(frame)
  }

  /** Pushes a ticker for each market every `intervalMs` (price from `priceOf`) until stopPumping(). */
  startPumping(markets: readonly string[], intervalMs: number, priceOf: (market: string) => number): void {
    this.stopPumping()
    this.pump = setInterval(() => {
      for (const m of markets) this.pushTicker(m, priceOf(m))
    }, intervalMs)
  }

  stopPumping(): void {
    if (this.pump) clearInterval(this.pump)
    this.pump = undefined
  }

  /** Sends a protocol-level ping frame (as Binance does every 20 s) to every open connection. */
  ping(payload = ''): void {
    for (const c of this.open()) c.socket.ping(payload)
  }

  /** Every text message received on every connection, in connection order. */
  allReceived(): string[] {
    return this.connections.flatMap((c) => c.received)
  }

  /** Closes every open connection from the server side. */
  closeAll(code = 1001, reason = 'going away'): void {
    for (const c of this.open()) c.socket.close(code, reason)
  }

  /** Destroys every open connection without a closing handshake. */
  dropAll(): void {
    for (const c of this.open()) c.socket.terminate()
  }

  async stop(): Promise<void> {
    this.stopPumping()
    for (const c of this.connections) c.socket.terminate()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }
}

const parse = (message: string): Record<string, unknown> | undefined => {
  try {
    const v = JSON.parse(message)
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** Binance combined streams: SUBSCRIBE → {"result":null,"id"}; pushes {"stream","data":24hrTicker}. */
export const binanceDialect: WsDialect = {
  reply(message) {
    const m = parse(message)
    return m?.method === 'SUBSCRIBE' ? [{ result: null, id: m.id }] : []
  },
  subscribedMarkets(message) {
    const m = parse(message)
    if (m?.method !== 'SUBSCRIBE' || !Array.isArray(m.params)) return []
    return (m.params as string[]).map((p) => p.split('@')[0]!.toUpperCase())
  },
  ticker(market, price, now = Date.now()) {
    const open = price * 0.98
    return {
      stream: `${market.toLowerCase()}@ticker`,
      data: {
        e: '24hrTicker',
        E: now,
        s: market,
        p: String(price - open),
        P: '2.041',
        w: String(price),
        x: String(open),
        c: String(price),
        Q: '0.5',
        b: String(price * 0.9999),
        B: '1',
        a: String(price * 1.0001),
        A: '1',
        o: String(open),
        h: String(price * 1.01),
        l: String(open * 0.99),
        v: '1000',
        q: String(1000 * price),
        O: now - 86_400_000,
        C: now,
        F: 1,
        L: 1000,
        n: 1000,
      },
    }
  },
}

/** OKX v5 public: text ping → pong; subscribe → one {"event":"subscribe","arg"} per arg; tickers pushes. */
export const okxDialect: WsDialect = {
  reply(message) {
    if (message === 'ping') return ['pong']
    const m = parse(message)
    if (m?.op !== 'subscribe' || !Array.isArray(m.args)) return []
    return (m.args as object[]).map((arg) => ({ event: 'subscribe', arg, connId: 'fake0001' }))
  },
  subscribedMarkets(message) {
    const m = parse(message)
    if (m?.op !== 'subscribe' || !Array.isArray(m.args)) return []
    return (m.args as { instId: string }[]).map((a) => a.instId)
  },
  ticker(market, price, now = Date.now()) {
    const open = price * 0.98
    return {
      arg: { channel: 'tickers', instId: market },
      data: [
        {
          instType: 'SPOT',
          instId: market,
          last: String(price),
          lastSz: '0.1',
          askPx: String(price * 1.0001),
          askSz: '1',
          bidPx: String(price * 0.9999),
          bidSz: '1',
          open24h: String(open),
          high24h: String(price * 1.01),
          low24h: String(open * 0.99),
          sodUtc0: String(open),
          sodUtc8: String(open),
          volCcy24h: String(1000 * price),
          vol24h: '1000',
          ts: String(now),
        },
      ],
    }
  },
}

/** Bybit v5 public spot: {"op":"ping"} → pong; subscribe → success; snapshot pushes. */
export const bybitDialect: WsDialect = {
  reply(message) {
    const m = parse(message)
    if (m?.op === 'ping') return [{ success: true, ret_msg: 'pong', conn_id: 'fake-conn', op: 'ping' }]
    if (m?.op === 'subscribe')
      return [{ success: true, ret_msg: 'subscribe', conn_id: 'fake-conn', op: 'subscribe' }]
    return []
  },
  subscribedMarkets(message) {
    const m = parse(message)
    if (m?.op !== 'subscribe' || !Array.isArray(m.args)) return []
    return (m.args as string[]).map((t) => t.replace(/^tickers\./, ''))
  },
  ticker(market, price, now = Date.now()) {
    const open = price * 0.98
    return {
      topic: `tickers.${market}`,
      ts: now,
      type: 'snapshot',
      cs: 1,
      data: {
        symbol: market,
        lastPrice: String(price),
        highPrice24h: String(price * 1.01),
        lowPrice24h: String(open * 0.99),
        prevPrice24h: String(open),
        volume24h: '1000',
        turnover24h: String(1000 * price),
        price24hPcnt: '0.0204',
      },
    }
  },
}

/** Kraken v2 pair name of an altname in the fakes (quotes USD/USDT/USDC; XBT is BTC in v2). */
const krakenPair = (altname: string): string => {
  const quote = ['USDT', 'USDC', 'USD'].find((q) => altname.endsWith(q)) ?? 'USD'
  const base = altname.slice(0, -quote.length)
  return `${base === 'XBT' ? 'BTC' : base}/${quote}`
}
const krakenAlt = (pair: string): string => {
  const [base = '', quote = ''] = pair.split('/')
  return `${base === 'BTC' ? 'XBT' : base}${quote}`
}

/** Kraken spot v2: subscribe → one ack per symbol; {"method":"ping"} → pong; ticker updates with JSON numbers. */
export const krakenDialect: WsDialect = {
  reply(message) {
    const m = parse(message)
    const stamp = { time_in: new Date().toISOString(), time_out: new Date().toISOString() }
    if (m?.method === 'ping') return [{ method: 'pong', req_id: m.req_id, ...stamp }]
    if (m?.method !== 'subscribe') return []
    const params = m.params as { channel: string; symbol: string[] }
    return params.symbol.map((symbol) => ({
      method: 'subscribe',
      result: { channel: params.channel, symbol, snapshot: true, event_trigger: 'trades' },
      success: true,
      req_id: m.req_id,
      ...stamp,
    }))
  },
  subscribedMarkets(message) {
    const m = parse(message)
    if (m?.method !== 'subscribe') return []
    return ((m.params as { symbol?: string[] })?.symbol ?? []).map(krakenAlt)
  },
  ticker(market, price, now = Date.now()) {
    return {
      channel: 'ticker',
      type: 'update',
      data: [
        {
          symbol: krakenPair(market),
          bid: price * 0.9999,
          bid_qty: 1,
          ask: price * 1.0001,
          ask_qty: 1,
          last: price,
          volume: 1000,
          vwap: price,
          low: price * 0.97,
          high: price * 1.01,
          change: price * 0.02,
          change_pct: 2,
          timestamp: new Date(now).toISOString(),
        },
      ],
    }
  },
}

/** Coinbase Exchange feed: subscribe → {"type":"subscriptions"}; ticker messages on every match. */
export const coinbaseDialect: WsDialect = {
  reply(message) {
    const m = parse(message)
    if (m?.type !== 'subscribe') return []
    const channels = (m.channels as string[]).map((name) => ({ name, product_ids: m.product_ids }))
    return [{ type: 'subscriptions', channels }]
  },
  subscribedMarkets(message) {
    const m = parse(message)
    return m?.type === 'subscribe' && Array.isArray(m.product_ids) ? (m.product_ids as string[]) : []
  },
  ticker(market, price, now = Date.now()) {
    return {
      type: 'ticker',
      sequence: now,
      product_id: market,
      price: String(price),
      open_24h: String(price * 0.98),
      volume_24h: '1000',
      low_24h: String(price * 0.97),
      high_24h: String(price * 1.01),
      volume_30d: '30000',
      best_bid: String(price * 0.9999),
      best_bid_size: '1',
      best_ask: String(price * 1.0001),
      best_ask_size: '1',
      side: 'buy',
      time: new Date(now).toISOString(),
      trade_id: now,
      last_size: '0.1',
    }
  },
}
