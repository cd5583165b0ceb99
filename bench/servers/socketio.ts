import { createServer } from 'node:http'
import { Redis } from 'ioredis'
import { Server } from 'socket.io'
import { fatal, reply } from '../lib/ipc.js'

/**
 * Fan-out peer: a Socket.IO 4 server on the same bus, one room per asset. A client emits
 * `subscribe` (asset ids, with an ack) and receives `quotes` events ({ type, quotes }), broadcast
 * to the asset's room (Socket.IO encodes each broadcast once). WebSocket transport only.
 * argv: redisUrl channel
 */
const [redisUrl, channel] = process.argv.slice(2) as [string, string]

const http = createServer()
const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false })
io.on('connection', (socket) => {
  socket.on('subscribe', (assets: unknown, ack?: () => void) => {
    if (Array.isArray(assets)) socket.join(assets.filter((a): a is string => typeof a === 'string'))
    ack?.()
  })
})

const sub = new Redis(redisUrl)
sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
  const batch = JSON.parse(message.toString()) as { quotes: { asset: string }[] }
  for (const q of batch.quotes) io.to(q.asset).emit('quotes', { type: 'quotes', quotes: [q] })
})

sub
  .subscribe(channel)
  .then(() =>
    http.listen(0, '127.0.0.1', () => reply('ready', { port: (http.address() as { port: number }).port })),
  )
  .catch(fatal)
process.on('SIGTERM', () => process.exit(0))
process.on('disconnect', () => process.exit(0))
