import { existsSync, readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** How the fake answers one path: a JSON body, or a fault. */
export type FakeReply =
  | { kind: 'json'; body: unknown; status?: number; headers?: Record<string, string> }
  | { kind: 'raw'; body: string; status?: number; headers?: Record<string, string> }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Never answers (the client's timeout must fire). */
  | { kind: 'hang' }
  /** Destroys the socket mid-request (connection reset). */
  | { kind: 'reset' }

export type FakeRoute = FakeReply | ((req: { path: string; query: URLSearchParams }) => FakeReply)

export interface LoggedRequest {
  method: string
  path: string
  query: URLSearchParams
  at: number
}

/**
 * A real local HTTP server that speaks an exchange's REST format: routes by path (without query),
 * fault injection per path, and a log of every request received.
 */
export class FakeExchange {
  readonly requests: LoggedRequest[] = []
  private readonly routes = new Map<string, FakeRoute>()
  private readonly delays = new Map<string, number>()
  private readonly sockets = new Set<Socket>()
  private server: Server | undefined
  private port = 0

  constructor(routes: Record<string, FakeRoute> = {}) {
    for (const [path, route] of Object.entries(routes)) this.routes.set(path, route)
  }

  /** Sets (or replaces) what a path answers. */
  route(path: string, reply: FakeRoute): this {
    this.routes.set(path, reply)
    return this
  }

  /** Answers a path only after ms (a slow exchange that still answers within the timeout). */
  delay(path: string, ms: number): this {
    this.delays.set(path, ms)
    return this
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Requests for one path (query ignored). */
  requestsTo(path: string): LoggedRequest[] {
    return this.requests.filter((r) => r.path === path)
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const wait = this.delays.get(new URL(req.url ?? '/', 'http://fake').pathname)
      if (wait) setTimeout(() => this.handle(req, res), wait)
      else this.handle(req, res)
    })
    this.server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
    return this
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake')
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      at: Date.now(),
    })
    const route = this.routes.get(url.pathname)
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such route in fake"}')
      return
    }
    const reply = typeof route === 'function' ? route({ path: url.pathname, query: url.searchParams }) : route
    switch (reply.kind) {
      case 'json':
        res
          .writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers })
          .end(JSON.stringify(reply.body))
        return
      case 'raw':
        res
          .writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers })
          .end(reply.body)
        return
      case 'status':
        res
          .writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers })
          .end(reply.body ?? '{}')
        return
      case 'hang':
        return
      case 'reset':
        req.socket.destroy()
        return
    }
  }
}

/** Path of the recorded real responses (read-only team kit beside the repo). */
export const CCXT_FIXTURES_DIR = new URL('../../../shared/fixtures/ccxt/', import.meta.url)

export const hasCcxtFixtures = existsSync(CCXT_FIXTURES_DIR)
if (!hasCcxtFixtures)
  console.log('ccxt fixtures not found at ../shared/fixtures/ccxt: recorded-response tests passed over')

export interface CcxtCase {
  description: string
  method: string
  input: unknown[]
  httpResponse: unknown
  parsedResponse: unknown
}

/** The recorded cases of one exchange file, by method (fetchTicker, fetchTickers, fetchOHLCV). */
export function ccxtCases(file: string): Record<string, CcxtCase[]> {
  const doc = JSON.parse(readFileSync(new URL(`${file}.json`, CCXT_FIXTURES_DIR), 'utf8'))
  return doc.methods
}
