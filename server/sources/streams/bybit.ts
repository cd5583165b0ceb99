import { z } from 'zod'
import { tickerRow } from '../bybit.js'
import { optionalMs, parseTickRows } from '../parse.js'
import { createExchangeStream, type StreamClientOptions, type TickStream } from './exchange-stream.js'
import { chunk, invalid, parseJson, type StreamProtocol } from './protocol.js'

/**
 * Bybit v5 public spot stream (https://bybit-exchange.github.io/docs/v5/ws/connect): topic
 * `tickers.<symbol>` on wss://stream.bybit.com/v5/public/spot, subscribed with
 * {"op":"subscribe","args":["tickers.BTCUSDT",…]}, acknowledged {"success":true,"op":"subscribe",…}.
 * Spot pushes are snapshots {"topic","ts","type":"snapshot","cs","data":{row}} with the REST row's
 * fields (lastPrice, prevPrice24h, highPrice24h, lowPrice24h, volume24h, turnover24h and
 * price24hPcnt as a fraction), parsed by the REST adapter's row schema stamped with the message ts.
 * Rules honoured:
 * - spot: at most 10 args per subscribe request;
 * - at most 21,000 characters of args per connection: at most 200 markets on one connection;
 * - heartbeat {"op":"ping"} every 20 s, answered {"op":"ping","ret_msg":"pong",…};
 * - at most 500 connections per 5 minutes per IP: connections of one source open at least 600 ms apart.
 */

const ID = 'bybit'
const SYMBOL = /^[A-Z0-9]{2,30}$/
const ARGS_PER_MESSAGE = 10

const Push = z.object({
  topic: z.string().startsWith('tickers.'),
  ts: optionalMs,
  data: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]),
})
const OpReply = z.object({
  op: z.string(),
  success: z.boolean().optional(),
  ret_msg: z.string().optional(),
})

export const bybitProtocol: StreamProtocol = {
  source: ID,
  defaultUrl: 'wss://stream.bybit.com/v5/public/spot',
  maxMarketsPerConnection: 200,
  sendGapMs: 100,
  connectGapMs: 600,
  expectedIntervalMs: 1000,
  ping: { intervalMs: 20_000, message: () => JSON.stringify({ op: 'ping' }) },

  streamName: (market) => (SYMBOL.test(market) ? `tickers.${market}` : undefined),

  subscribeMessages(markets) {
    const topics = markets.map((m) => bybitProtocol.streamName(m)).filter((n): n is string => n !== undefined)
    return chunk(topics, ARGS_PER_MESSAGE).map((args) => JSON.stringify({ op: 'subscribe', args }))
  },

  decode(text, receivedAt, metrics) {
    const parsed = parseJson(text)
    if (!parsed.ok) return invalid('invalid_json', text)
    const push = Push.safeParse(parsed.value)
    if (push.success) {
      const rows = Array.isArray(push.data.data) ? push.data.data : [push.data.data]
      return {
        kind: 'ticks',
        batch: parseTickRows(ID, tickerRow(push.data.ts), rows, { metrics, receivedAt }),
      }
    }
    const reply = OpReply.safeParse(parsed.value)
    if (!reply.success) return invalid('schema', text)
    const { op, success, ret_msg: message } = reply.data
    if (op === 'ping' || op === 'pong') return { kind: 'pong' }
    if (op === 'subscribe') {
      return success === false
        ? { kind: 'rejected', reason: message ?? 'subscribe failed' }
        : { kind: 'subscribed' }
    }
    return { kind: 'ignored' }
  },
}

export function createBybitStream(opts: StreamClientOptions): TickStream {
  return createExchangeStream(bybitProtocol, opts)
}
