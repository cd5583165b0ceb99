import { io, type Socket } from 'socket.io-client'
import { WebSocket } from 'ws'
import { assetsOfClient } from '../lib/bench-quote.js'
import { onCommand, reply } from '../lib/ipc.js'
import { LatencyHistogram } from '../lib/stats.js'

/**
 * Load generator child for the fan-out benchmark: `count` subscribed clients of one kind
 * (pricewire /v1/stream, the bare ws baseline, or Socket.IO), each on `perClient` assets. Counts the
 * quotes each client receives with seq >= fromSeq and their publish → receive latency
 * (receive time − quote.updatedAt, both epoch ms on this machine's clock).
 */
type Kind = 'pricewire' | 'ws' | 'socketio'

interface QuotesLike {
  type?: string
  quotes?: { seq: number; updatedAt: number }[]
  code?: string
  message?: string
}

let received = new Int32Array(0)
let fromSeq = Number.POSITIVE_INFINITY
const hist = new LatencyHistogram()
let frames = 0
let unexpectedCloses = 0
const closeCodes: Record<string, number> = {}
const errors: string[] = []
const closers: (() => void)[] = []
let connected = false

function onFrame(i: number, frame: QuotesLike): void {
  frames++
  if (frame.type === 'quotes' && frame.quotes) {
    const now = Date.now()
    for (const q of frame.quotes) {
      if (q.seq < fromSeq) continue
      received[i]!++
      hist.record(now - q.updatedAt)
    }
  } else if (frame.type === 'error' && errors.length < 5) errors.push(`${frame.code}: ${frame.message}`)
}

function onClose(code: number | string): void {
  if (!connected) return
  unexpectedCloses++
  closeCodes[code] = (closeCodes[code] ?? 0) + 1
}

function connectWs(i: number, url: string, assets: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    let subscribed = false
    const timer = setTimeout(() => reject(new Error('no snapshot within 20 s')), 20_000)
    ws.on('open', () => ws.send(JSON.stringify({ op: 'subscribe', assets })))
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as QuotesLike
      if (!subscribed) {
        if (frame.type === 'error') {
          clearTimeout(timer)
          reject(new Error(`subscribe refused: ${frame.code}: ${frame.message}`))
          return
        }
        if (frame.type === 'snapshot') {
          subscribed = true
          clearTimeout(timer)
          resolve()
          return
        }
      }
      onFrame(i, frame)
    })
    ws.on('close', (code) => {
      clearTimeout(timer)
      if (!subscribed) reject(new Error(`closed ${code} before subscribing`))
      else onClose(code)
    })
    ws.on('error', (err) => {
      if (!subscribed) reject(err)
    })
    closers.push(() => ws.terminate())
  })
}

function connectSocketIo(i: number, url: string, assets: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: Socket = io(url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: 20_000,
    })
    const timer = setTimeout(() => reject(new Error('no subscribe ack within 20 s')), 20_000)
    let subscribed = false
    socket.on('connect', () =>
      socket.emit('subscribe', assets, () => {
        subscribed = true
        clearTimeout(timer)
        resolve()
      }),
    )
    socket.on('quotes', (frame: QuotesLike) => onFrame(i, frame))
    socket.on('connect_error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    socket.on('disconnect', (reason) => {
      if (subscribed) onClose(reason)
    })
    closers.push(() => socket.disconnect())
  })
}

/** Opens count clients, at most `concurrency` handshakes at a time. */
async function connectAll(c: {
  kind: Kind
  url: string
  count: number
  firstIndex: number
  assets: string[]
  perClient: number
  concurrency: number
}) {
  received = new Int32Array(c.count)
  let next = 0
  let failed = 0
  let firstError = ''
  const t0 = performance.now()
  const worker = async () => {
    while (next < c.count) {
      const i = next++
      const assets = assetsOfClient(c.firstIndex + i, c.assets, c.perClient)
      try {
        if (c.kind === 'socketio') await connectSocketIo(i, c.url, assets)
        else await connectWs(i, c.url, assets)
      } catch (err) {
        failed++
        firstError ||= (err as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: c.concurrency }, worker))
  connected = true
  return { ok: c.count - failed, failed, firstError, ms: performance.now() - t0 }
}

onCommand(async (c) => {
  switch (c.cmd) {
    case 'connect':
      reply('connected', await connectAll(c as unknown as Parameters<typeof connectAll>[0]))
      return
    case 'reset':
      fromSeq = Number(c.fromSeq)
      received.fill(0)
      hist.reset()
      frames = 0
      reply('reset-done')
      return
    case 'report':
      reply('report', {
        received: [...received],
        histogram: hist.toData(),
        frames,
        unexpectedCloses,
        closeCodes,
        errors,
      })
      return
    case 'close':
      connected = false
      for (const close of closers) close()
      reply('closed')
      return
  }
})
reply('ready')
