import { type IncomingMessage, STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'

export const STREAM_PATH = '/v1/stream'

/** Origin allow-list: `*` allows all; a request without Origin (not a browser) is allowed. */
export function originChecker(allowed: readonly string[]): (origin: string | undefined) => boolean {
  if (allowed.includes('*')) return () => true
  const set = new Set(allowed.map(normalizeOrigin))
  return (origin) => origin === undefined || set.has(normalizeOrigin(origin))
}

function normalizeOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '')
}

export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/** Answers a refused upgrade with a plain HTTP response (the REST error shape) and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  socket.on('error', () => {})
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const body = JSON.stringify({ error: { code, message } })
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}
