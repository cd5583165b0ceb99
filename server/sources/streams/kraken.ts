import { z } from 'zod'
import {
  optionalAmount,
  optionalIsoMs,
  optionalNumber,
  optionalPrice,
  parseTickRows,
  priceField,
  type TickFields,
} from '../parse.js'
import { createExchangeStream, type StreamClientOptions, type TickStream } from './exchange-stream.js'
import { chunk, invalid, parseJson, type StreamProtocol } from './protocol.js'

/**
 * Kraken spot WebSocket v2 (docs.kraken.com, "Spot WebSocket v2: ticker", "ping", "heartbeat"): the
 * `ticker` channel on wss://ws.kraken.com/v2, subscribed with
 * {"method":"subscribe","params":{"channel":"ticker","symbol":["BTC/USD",…]},"req_id":1} and
 * acknowledged per symbol {"method":"subscribe","result":{…},"success":true}. Pushes
 * {"channel":"ticker","type":"snapshot"|"update","data":[{symbol,last,volume,vwap,low,high,change,
 * change_pct,timestamp,…}]} come on every trade; {"channel":"heartbeat"} about once a second when
 * nothing else is sent, which keeps a quiet market's connection healthy.
 * v2 names pairs "BTC/USD" where REST altnames say XBTUSD: our market names are altnames, mapped
 * both ways here (XBT ↔ BTC, XDG ↔ DOGE).
 * Rules honoured:
 * - the client may ping {"method":"ping","req_id":n}, answered {"method":"pong",…}: every 30 s;
 * - about 150 connection attempts per rolling 10 minutes per IP (Cloudflare): connections of one
 *   source open (and reconnect) at least 4 s apart;
 * - open24h stays null as in the REST adapter (the rolling 24 h change gives the percent).
 */

const ID = 'kraken'
const QUOTES = ['USDT', 'USDC', 'USD', 'EUR', 'GBP', 'CAD', 'JPY', 'CHF', 'AUD'] as const
const ALT_TO_V2: Record<string, string> = { XBT: 'BTC', XDG: 'DOGE' }
const V2_TO_ALT: Record<string, string> = { BTC: 'XBT', DOGE: 'XDG' }
const SYMBOLS_PER_MESSAGE = 50

/** "XBTUSD" → "BTC/USD"; undefined when no known quote currency ends the name. */
export function krakenV2Symbol(altname: string): string | undefined {
  if (!/^[A-Z0-9]{2,20}$/.test(altname)) return undefined
  const quote = QUOTES.find((q) => altname.endsWith(q) && altname.length > q.length)
  if (!quote) return undefined
  const base = altname.slice(0, -quote.length)
  return `${ALT_TO_V2[base] ?? base}/${quote}`
}

/** "BTC/USD" → "XBTUSD". */
export function krakenAltname(symbol: string): string {
  const [base = '', quote = ''] = symbol.split('/')
  return `${V2_TO_ALT[base] ?? base}${quote}`
}

const TickerRow = z
  .object({
    symbol: z.string(),
    last: priceField,
    high: optionalPrice,
    low: optionalPrice,
    volume: optionalAmount,
    vwap: optionalPrice,
    change_pct: optionalNumber,
    timestamp: optionalIsoMs,
  })
  .transform(
    (r): TickFields => ({
      market: krakenAltname(r.symbol),
      last: r.last,
      open24h: null,
      high24h: r.high,
      low24h: r.low,
      changePercent24h: r.change_pct,
      baseVolume: r.volume,
      // No quote volume is published: 24 h volume × 24 h VWAP, as in the REST adapter.
      quoteVolume: r.volume !== null && r.vwap !== null ? r.volume * r.vwap : null,
      ts: r.timestamp,
    }),
  )

const Push = z.object({
  channel: z.literal('ticker'),
  type: z.enum(['snapshot', 'update']),
  data: z.array(z.unknown()),
})
const Channel = z.object({ channel: z.string() })
const MethodReply = z.object({
  method: z.string(),
  success: z.boolean().optional(),
  error: z.string().optional(),
})

export const krakenProtocol: StreamProtocol = {
  source: ID,
  defaultUrl: 'wss://ws.kraken.com/v2',
  maxMarketsPerConnection: 200,
  sendGapMs: 200,
  connectGapMs: 4000,
  expectedIntervalMs: 1000,
  ping: { intervalMs: 30_000, message: () => JSON.stringify({ method: 'ping' }) },

  streamName: krakenV2Symbol,

  subscribeMessages(markets) {
    const symbols = markets.map(krakenV2Symbol).filter((s): s is string => s !== undefined)
    return chunk(symbols, SYMBOLS_PER_MESSAGE).map((symbol, i) =>
      JSON.stringify({ method: 'subscribe', params: { channel: 'ticker', symbol }, req_id: i + 1 }),
    )
  },

  decode(text, receivedAt, metrics) {
    const parsed = parseJson(text)
    if (!parsed.ok) return invalid('invalid_json', text)
    const push = Push.safeParse(parsed.value)
    if (push.success) {
      return {
        kind: 'ticks',
        batch: parseTickRows(ID, TickerRow, push.data.data, { metrics, receivedAt }),
      }
    }
    const channel = Channel.safeParse(parsed.value)
    if (channel.success) {
      if (channel.data.channel === 'heartbeat') return { kind: 'heartbeat' }
      if (channel.data.channel === 'ticker') return invalid('schema', text)
      // status (system online/maintenance) and other channels.
      return { kind: 'ignored' }
    }
    const reply = MethodReply.safeParse(parsed.value)
    if (!reply.success) return invalid('schema', text)
    const { method, success, error } = reply.data
    if (method === 'pong') return { kind: 'pong' }
    if (method === 'subscribe') {
      return success === false
        ? { kind: 'rejected', reason: error ?? 'subscribe failed' }
        : { kind: 'subscribed' }
    }
    return { kind: 'ignored' }
  },
}

export function createKrakenStream(opts: StreamClientOptions): TickStream {
  return createExchangeStream(krakenProtocol, opts)
}
