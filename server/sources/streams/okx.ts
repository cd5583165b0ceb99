import { z } from 'zod'
import { TickerRow } from '../okx.js'
import { parseTickRows } from '../parse.js'
import { createExchangeStream, type StreamClientOptions, type TickStream } from './exchange-stream.js'
import { chunk, invalid, parseJson, type StreamProtocol } from './protocol.js'

/**
 * OKX public WebSocket (https://www.okx.com/docs-v5/en/#overview-websocket): the `tickers` channel on
 * wss://ws.okx.com:8443/ws/v5/public, subscribed with
 * {"op":"subscribe","args":[{"channel":"tickers","instId":"BTC-USDT"},…]}, acknowledged per arg with
 * {"event":"subscribe","arg":{…}}. Pushes {"arg":{"channel":"tickers","instId":…},"data":[row]} carry
 * the same rows as REST /api/v5/market/tickers, parsed by the REST adapter's row schema. Pushed on
 * trades and best bid/ask changes, at most every 100 ms.
 * Rules honoured:
 * - keep-alive: the text `ping` every 20 s (OKX cuts connections silent for 30 s), answered `pong`;
 * - 3 connection requests per second per IP: connections of one source open at least 350 ms apart;
 * - 480 subscribe/unsubscribe requests per connection per hour: one subscribe request per 100
 *   markets, once per connection;
 * - 64 KB total length of the args of one request: 100 args are about 5 KB;
 * - {"event":"notice","code":"64008"} (service upgrade, sent 30 s before the cut): replaced at once.
 */

const ID = 'okx'
const INST_ID = /^[A-Z0-9]{1,20}-[A-Z0-9]{1,20}$/
const ARGS_PER_MESSAGE = 100
const SERVICE_UPGRADE_NOTICE = '64008'

const Push = z.object({
  arg: z.object({ channel: z.literal('tickers'), instId: z.string().optional() }),
  data: z.array(z.unknown()),
})
const Event = z.object({
  event: z.string(),
  code: z.union([z.string(), z.number()]).transform(String).optional(),
  msg: z.string().optional(),
})

export const okxProtocol: StreamProtocol = {
  source: ID,
  defaultUrl: 'wss://ws.okx.com:8443/ws/v5/public',
  maxMarketsPerConnection: 300,
  sendGapMs: 350,
  connectGapMs: 350,
  expectedIntervalMs: 1000,
  ping: { intervalMs: 20_000, message: () => 'ping' },

  streamName: (market) => (INST_ID.test(market) ? market : undefined),

  subscribeMessages(markets) {
    const args = markets
      .filter((m) => okxProtocol.streamName(m) !== undefined)
      .map((instId) => ({ channel: 'tickers', instId }))
    return chunk(args, ARGS_PER_MESSAGE).map((part) => JSON.stringify({ op: 'subscribe', args: part }))
  },

  decode(text, receivedAt, metrics) {
    if (text === 'pong') return { kind: 'pong' }
    const parsed = parseJson(text)
    if (!parsed.ok) return invalid('invalid_json', text)
    const push = Push.safeParse(parsed.value)
    if (push.success) {
      return {
        kind: 'ticks',
        batch: parseTickRows(ID, TickerRow, push.data.data, { metrics, receivedAt, marketField: 'instId' }),
      }
    }
    const event = Event.safeParse(parsed.value)
    if (!event.success) return invalid('schema', text)
    const { event: name, code, msg } = event.data
    if (name === 'subscribe') return { kind: 'subscribed' }
    if (name === 'error') return { kind: 'rejected', reason: `code ${code ?? '?'}: ${msg ?? ''}` }
    if (name === 'notice' && code === SERVICE_UPGRADE_NOTICE) {
      return { kind: 'reconnect', reason: `notice ${code}: ${msg ?? 'service upgrade'}` }
    }
    // channel-conn-count and other informational events.
    return { kind: 'ignored' }
  },
}

export function createOkxStream(opts: StreamClientOptions): TickStream {
  return createExchangeStream(okxProtocol, opts)
}
