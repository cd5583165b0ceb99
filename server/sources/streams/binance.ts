import { z } from 'zod'
import type { Metrics } from '../../metrics.js'
import {
  optionalAmount,
  optionalMs,
  optionalNumber,
  optionalPrice,
  parseTickRows,
  percentChange,
  priceField,
  type TickFields,
} from '../parse.js'
import { createExchangeStream, type StreamClientOptions, type TickStream } from './exchange-stream.js'
import { chunk, invalid, parseJson, type StreamFrame, type StreamProtocol } from './protocol.js'

/**
 * Binance spot market streams (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams):
 * one `<symbol>@ticker` stream per market (24 h rolling window, pushed every 1000 ms) on the combined
 * endpoint wss://stream.binance.com:9443/stream, subscribed with
 * {"method":"SUBSCRIBE","params":["btcusdt@ticker",…],"id":1}, answered {"result":null,"id":1}.
 * Pushes arrive wrapped: {"stream":"btcusdt@ticker","data":{"e":"24hrTicker",…}}.
 * Rules honoured:
 * - at most 1024 streams per connection (we put at most 1000 markets on one);
 * - at most 5 incoming messages per second, pings and pongs included: our messages leave 500 ms apart
 *   (2/s), leaving room for the pong that answers the server's ping (requests 250 ms apart have been
 *   seen cut with 1008 "Too many requests");
 * - the server pings every 20 s and wants a pong with the ping's payload within a minute: the ws
 *   library answers every ping frame with its payload;
 * - a connection lives at most 24 h: replaced before (make-before-break), and at once on a
 *   `serverShutdown` event;
 * - 300 connection attempts per 5 minutes per IP: connections of one source start (and reconnect) at
 *   least 1 s apart.
 * `24hrMiniTicker` rows (from `<symbol>@miniTicker` or `!miniTicker@arr`) are read too: they lack the
 * change percent, computed then from close vs open.
 */

const ID = 'binance'
const SYMBOL = /^[A-Z0-9]{2,30}$/
const PARAMS_PER_MESSAGE = 100

/** A 24hrTicker or 24hrMiniTicker row: c last, o open 24 h ago, h/l, P percent, v base / q quote volume. */
const StreamTickerRow = z
  .object({
    e: z.enum(['24hrTicker', '24hrMiniTicker']),
    E: optionalMs,
    s: z.string(),
    c: priceField,
    o: optionalPrice,
    h: optionalPrice,
    l: optionalPrice,
    P: optionalNumber,
    v: optionalAmount,
    q: optionalAmount,
    C: optionalMs,
  })
  .transform(
    (r): TickFields => ({
      market: r.s,
      last: r.c,
      open24h: r.o,
      high24h: r.h,
      low24h: r.l,
      changePercent24h: r.P ?? percentChange(r.c, r.o),
      baseVolume: r.v,
      quoteVolume: r.q,
      ts: r.C ?? r.E,
    }),
  )

const Combined = z.object({ stream: z.string(), data: z.unknown() })
const Reply = z.object({ id: z.union([z.number(), z.string(), z.null()]), result: z.unknown() })
const ErrorReply = z.object({ code: z.number(), msg: z.string() })
const Event = z.object({ e: z.string() })

function decodePayload(payload: unknown, receivedAt: number, metrics?: Metrics): StreamFrame {
  const rows = Array.isArray(payload) ? payload : [payload]
  const first = Event.safeParse(rows[0])
  if (!first.success) return invalid('schema', 'a push without an event type')
  if (first.data.e === 'serverShutdown') return { kind: 'reconnect', reason: 'serverShutdown' }
  if (first.data.e !== '24hrTicker' && first.data.e !== '24hrMiniTicker') {
    return invalid('schema', `unexpected event ${first.data.e}`)
  }
  return {
    kind: 'ticks',
    batch: parseTickRows(ID, StreamTickerRow, rows, { metrics, receivedAt, marketField: 's' }),
  }
}

export const binanceProtocol: StreamProtocol = {
  source: ID,
  defaultUrl: 'wss://stream.binance.com:9443/stream',
  maxMarketsPerConnection: 1000,
  sendGapMs: 500,
  connectGapMs: 1000,
  expectedIntervalMs: 1000,
  lifetimeMs: 24 * 3_600_000,

  streamName: (market) => (SYMBOL.test(market) ? `${market.toLowerCase()}@ticker` : undefined),

  subscribeMessages(markets) {
    const names = markets
      .map((m) => binanceProtocol.streamName(m))
      .filter((n): n is string => n !== undefined)
    return chunk(names, PARAMS_PER_MESSAGE).map((params, i) =>
      JSON.stringify({ method: 'SUBSCRIBE', params, id: i + 1 }),
    )
  },

  decode(text, receivedAt, metrics) {
    const parsed = parseJson(text)
    if (!parsed.ok) return invalid('invalid_json', text)
    const body = parsed.value
    const combined = Combined.safeParse(body)
    if (combined.success) return decodePayload(combined.data.data, receivedAt, metrics)
    const reply = Reply.safeParse(body)
    if (reply.success) return reply.data.result === null ? { kind: 'subscribed' } : { kind: 'ignored' }
    const error = ErrorReply.safeParse(body)
    if (error.success) return { kind: 'rejected', reason: `code ${error.data.code}: ${error.data.msg}` }
    // A raw (/ws) connection pushes payloads unwrapped.
    if (Array.isArray(body) || Event.safeParse(body).success) return decodePayload(body, receivedAt, metrics)
    return invalid('schema', text)
  },
}

export function createBinanceStream(opts: StreamClientOptions): TickStream {
  return createExchangeStream(binanceProtocol, opts)
}
