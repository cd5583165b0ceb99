import WebSocket, { WebSocketServer } from 'ws'
import { fatal, reply } from '../lib/ipc.js'

/**
 * End-to-end baseline, the floor: a bare relay in its own process. It reads the same fake exchange
 * stream as Pricewire (Binance SUBSCRIBE, 24hrTicker pushes), and for each push writes one small
 * JSON frame {"type":"quotes","quotes":[{asset, price, updatedAt}]} to every client. No validation,
 * aggregation, coalescing, engine, history or per-client state.
 * argv: exchangeWsUrl market asset
 */
const [exchangeUrl, market, asset] = process.argv.slice(2) as [string, string, string]

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
wss.on('connection', (ws) => ws.on('error', () => {}))

const upstream = new WebSocket(exchangeUrl, { perMessageDeflate: false })
upstream.on('open', () =>
  upstream.send(JSON.stringify({ method: 'SUBSCRIBE', params: [`${market.toLowerCase()}@ticker`], id: 1 })),
)
upstream.on('message', (data) => {
  const msg = JSON.parse(data.toString()) as { data?: { c?: string } }
  const price = Number(msg.data?.c)
  if (!Number.isFinite(price)) return
  const frame = JSON.stringify({ type: 'quotes', quotes: [{ asset, price, updatedAt: Date.now() }] })
  for (const client of wss.clients) client.send(frame)
})
upstream.on('error', fatal)

Promise.all([
  new Promise<void>((resolve) => wss.once('listening', resolve)),
  new Promise<void>((resolve) => upstream.once('open', resolve)),
])
  .then(() => reply('ready', { port: (wss.address() as { port: number }).port }))
  .catch(fatal)
process.on('SIGTERM', () => process.exit(0))
process.on('disconnect', () => process.exit(0))
