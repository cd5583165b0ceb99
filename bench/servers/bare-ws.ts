import { Redis } from 'ioredis'
import { type WebSocket, WebSocketServer } from 'ws'
import { fatal, reply } from '../lib/ipc.js'

/**
 * Fan-out baseline, the limit: a bare `ws` server on the same bus. Subscribe frames as in
 * /v1/stream; per bus update, one frame serialised once into one Buffer and written to every
 * subscriber of the asset. No validation, queues, throttling or heartbeats.
 * argv: redisUrl channel
 */
const [redisUrl, channel] = process.argv.slice(2) as [string, string]
const subscribers = new Map<string, Set<WebSocket>>()

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
wss.on('connection', (ws) => {
  const mine = new Set<string>()
  ws.on('message', (data) => {
    let msg: { op?: string; assets?: string[] }
    try {
      msg = JSON.parse(data.toString())
    } catch {
      return
    }
    if (msg.op !== 'subscribe' || !Array.isArray(msg.assets)) return
    for (const a of msg.assets) {
      const set = subscribers.get(a) ?? new Set()
      subscribers.set(a, set)
      set.add(ws)
      mine.add(a)
    }
    ws.send('{"type":"snapshot","quotes":[]}')
  })
  ws.on('close', () => {
    for (const a of mine) subscribers.get(a)?.delete(ws)
  })
  ws.on('error', () => {})
})

const sub = new Redis(redisUrl)
sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
  const batch = JSON.parse(message.toString()) as { quotes: { asset: string }[] }
  for (const q of batch.quotes) {
    const set = subscribers.get(q.asset)
    if (!set?.size) continue
    const frame = Buffer.from(JSON.stringify({ type: 'quotes', quotes: [q] }))
    for (const ws of set) ws.send(frame, { binary: false })
  }
})

const listening = new Promise<void>((resolve) => wss.once('listening', resolve))
Promise.all([listening, sub.subscribe(channel)])
  .then(() => reply('ready', { port: (wss.address() as { port: number }).port }))
  .catch(fatal)
process.on('SIGTERM', () => process.exit(0))
process.on('disconnect', () => process.exit(0))
