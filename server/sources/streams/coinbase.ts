import { z } from 'zod'
import {
  optionalAmount,
  optionalIsoMs,
  optionalPrice,
  parseTickRows,
  percentChange,
  priceField,
  type TickFields,
} from '../parse.js'
import { createExchangeStream, type StreamClientOptions, type TickStream } from './exchange-stream.js'
import { chunk, invalid, parseJson, type StreamProtocol } from './protocol.js'

/**
 * Coinbase Exchange WebSocket feed (docs.cdp.coinbase.com/exchange/websocket-feed, "Channels"):
 * wss://ws-feed.exchange.coinbase.com, subscribed with
 * {"type":"subscribe","product_ids":["BTC-USD",…],"channels":["ticker","heartbeat"]} (within 5 s of
 * connecting, or the feed disconnects), confirmed {"type":"subscriptions",…}. `ticker` pushes on
 * every match {"type":"ticker","product_id","price","open_24h","high_24h","low_24h","volume_24h",
 * "time",…} (rolling 24 h stats, so open_24h is the price 24 h ago); `heartbeat` sends one message
 * per product per second, which keeps a quiet product's connection healthy. Errors come as
 * {"type":"error","message","reason"}.
 * Rules honoured:
 * - no application ping is required (the ws library answers protocol pings);
 * - client messages are rate limited per IP: our messages leave at least 100 ms apart;
 * - connections are rate limited per IP: connections of one source open at least 250 ms apart;
 * - at most 100 products per connection (heartbeats alone are then 100 messages a second).
 */

const ID = 'coinbase'
const PRODUCT = /^[A-Z0-9]{1,20}-[A-Z0-9]{1,20}$/
const PRODUCTS_PER_MESSAGE = 100

const TickerRow = z
  .object({
    type: z.literal('ticker'),
    product_id: z.string(),
    price: priceField,
    open_24h: optionalPrice,
    high_24h: optionalPrice,
    low_24h: optionalPrice,
    volume_24h: optionalAmount,
    time: optionalIsoMs,
  })
  .transform(
    (r): TickFields => ({
      market: r.product_id,
      last: r.price,
      open24h: r.open_24h,
      high24h: r.high_24h,
      low24h: r.low_24h,
      changePercent24h: percentChange(r.price, r.open_24h),
      baseVolume: r.volume_24h,
      // No quote volume is published: base volume × last price, as in the REST adapter.
      quoteVolume: r.volume_24h === null ? null : r.volume_24h * r.price,
      ts: r.time,
    }),
  )

const Typed = z.object({
  type: z.string(),
  message: z.string().optional(),
  reason: z.string().optional(),
})

export const coinbaseProtocol: StreamProtocol = {
  source: ID,
  defaultUrl: 'wss://ws-feed.exchange.coinbase.com',
  maxMarketsPerConnection: 100,
  sendGapMs: 100,
  connectGapMs: 250,
  expectedIntervalMs: 1000,

  streamName: (market) => (PRODUCT.test(market) ? market : undefined),

  subscribeMessages(markets) {
    const products = markets.filter((m) => PRODUCT.test(m))
    return chunk(products, PRODUCTS_PER_MESSAGE).map((product_ids) =>
      JSON.stringify({ type: 'subscribe', product_ids, channels: ['ticker', 'heartbeat'] }),
    )
  },

  decode(text, receivedAt, metrics) {
    const parsed = parseJson(text)
    if (!parsed.ok) return invalid('invalid_json', text)
    const typed = Typed.safeParse(parsed.value)
    if (!typed.success) return invalid('schema', text)
    switch (typed.data.type) {
      case 'ticker':
        return {
          kind: 'ticks',
          batch: parseTickRows(ID, TickerRow, [parsed.value], {
            metrics,
            receivedAt,
            marketField: 'product_id',
          }),
        }
      case 'heartbeat':
        return { kind: 'heartbeat' }
      case 'subscriptions':
        return { kind: 'subscribed' }
      case 'error':
        return {
          kind: 'rejected',
          reason: [typed.data.message, typed.data.reason].filter(Boolean).join(': ') || 'error',
        }
      default:
        // New message types may be added at any time; clients are to ignore them.
        return { kind: 'ignored' }
    }
  },
}

export function createCoinbaseStream(opts: StreamClientOptions): TickStream {
  return createExchangeStream(coinbaseProtocol, opts)
}
