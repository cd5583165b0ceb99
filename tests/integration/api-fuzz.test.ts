import { connect } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorResponse } from '../../shared/api.js'
import { type PushApp, startPushApp } from '../helpers/push-app.js'

let s: PushApp
let port: number
beforeAll(async () => {
  s = await startPushApp({ vars: { PRICEWIRE_RATE_LIMIT: '0' } })
  port = Number(new URL(s.httpUrl).port)
  // Every asset quoted, so the only 5xx a read could give (503: not quoted yet) is ruled out.
  await s.quoteEveryAsset()
})
afterAll(async () => {
  await s?.close()
})

interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** One request over a raw socket, bytes exactly as given: no client-side URL or header checks. */
function raw(requestText: string | Buffer, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' })
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer within ${timeoutMs} ms to ${String(requestText).slice(0, 120)}`))
    }, timeoutMs)
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const head = text.slice(0, text.indexOf('\r\n\r\n'))
      const [statusLine, ...lines] = head.split('\r\n')
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1])
      if (!status) return reject(new Error(`no HTTP answer to ${String(requestText).slice(0, 120)}: ${text}`))
      const headers: Record<string, string> = {}
      for (const l of lines) {
        const i = l.indexOf(':')
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim()
      }
      const body = Buffer.from(text.slice(head.length + 4), 'latin1').toString('utf8')
      resolve({ status, headers, body })
    })
    socket.write(requestText)
  })
}

const request = (method: string, target: string, extra = '') =>
  raw(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Connection: close\r\n\r\n`)

/** An error answer must be the JSON error shape (or the badge's SVG 404), with no stack. */
function expectCleanAnswer(r: RawResponse, what: string) {
  expect(r.status, what).toBeLessThan(500)
  expect(r.body, what).not.toMatch(/\bat .+[/\\].+:\d+:\d+/)
  if (r.status >= 400 && r.body !== '' && r.headers['content-type']?.startsWith('application/json')) {
    expect(ErrorResponse.safeParse(JSON.parse(r.body)).success, `${what}: ${r.body}`).toBe(true)
  }
}

const PREFIXES = [
  '/',
  '/v1/quotes',
  '/v1/quotes/',
  '/v1/quotes?assets=',
  '/v1/quotes?assets=pol,',
  '/v1/history/',
  '/v1/history/pol?window=',
  '/v1/badge/',
  '/v1/badge/pol.svg?show=',
  '/v1/badge/pol.svg?theme=',
  '/v1/assets',
  '/docs',
  '/docs/',
  '/docs/json',
  '/metrics',
  '/healthz',
  '/readyz',
]
const PIECES = [
  'pol',
  'US',
  'btc',
  '.svg',
  ',',
  '/',
  '?',
  '&',
  '=',
  '#',
  '%',
  '%25',
  '%2F',
  '%00',
  '%E0%A4%A',
  '%ZZ',
  '%C0%AF',
  '..',
  '%2e%2e',
  '<script>',
  '"',
  "'",
  '\u202e',
  'é',
  '😀',
  'window=7d',
  'assets=pol',
  'show=change',
  'theme=dark',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  '\\',
  ' ',
  '\t',
]
const piece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PIECES) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6, unit: 'binary' }) },
)
const target = fc
  .tuple(fc.constantFrom(...PREFIXES), fc.array(piece, { maxLength: 8 }))
  .map(([p, rest]) => p + rest.join(''))
const method = fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE', 'PATCH')

describe('REST under random input', () => {
  it('never answers a 5xx to random paths, query strings and methods', async () => {
    await fc.assert(
      fc.asyncProperty(method, target, async (m, t) => {
        const r = await request(m, t)
        expectCleanAnswer(r, `${m} ${JSON.stringify(t)}`)
      }),
      { numRuns: 300 },
    )
  }, 120_000)

  it('never answers a 5xx to random query strings on the quote routes', async () => {
    const value = fc.array(
      fc.oneof(fc.constantFrom('pol', 'btc', 'US', 'nope', ''), fc.string({ maxLength: 8 })),
      {
        maxLength: 6,
      },
    )
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/quotes', '/v1/history/pol', '/v1/badge/pol.svg', '/v1/quotes/pol'),
        fc.array(fc.tuple(fc.constantFrom('assets', 'window', 'show', 'theme', 'x', ''), value), {
          maxLength: 4,
        }),
        async (path, params) => {
          const qs = params.map(([k, v]) => `${k}=${encodeURIComponent(v.join(','))}`).join('&')
          const r = await request('GET', `${path}?${qs}`)
          expectCleanAnswer(r, `${path}?${qs}`)
        },
      ),
      { numRuns: 200 },
    )
  }, 120_000)

  it('refuses an over-long URL and over-large headers cleanly', async () => {
    const longQuery = await request('GET', `/v1/quotes?assets=${'a,'.repeat(20_000)}pol`)
    expect(longQuery.status).toBe(431)
    expect(ErrorResponse.parse(JSON.parse(longQuery.body)).error.code).toBe('headers_too_large')

    const longSegment = await request('GET', `/v1/quotes/${'a'.repeat(5_000)}`)
    expect([400, 414]).toContain(longSegment.status)
    expect(ErrorResponse.safeParse(JSON.parse(longSegment.body)).success).toBe(true)

    const bigHeader = await request('GET', '/v1/quotes/pol', `X-Junk: ${'j'.repeat(20_000)}\r\n`)
    expect(bigHeader.status).toBe(431)
    expect(ErrorResponse.parse(JSON.parse(bigHeader.body)).error.code).toBe('headers_too_large')

    const manyHeaders = await request(
      'GET',
      '/v1/quotes/pol',
      Array.from({ length: 3_000 }, (_, i) => `X-H${i}: v\r\n`).join(''),
    )
    expect(manyHeaders.status).toBeGreaterThanOrEqual(400)
    expect(manyHeaders.status).toBeLessThan(500)

    // Still serving afterwards.
    expect((await request('GET', '/v1/quotes/pol')).status).toBe(200)
  })

  it('answers a malformed request line with a JSON 400', async () => {
    for (const bad of ['GARBAGE\r\n\r\n', 'GET /v1/assets HTTP/9.9\r\n\r\n', 'GET\r\n\r\n']) {
      const r = await raw(bad)
      expect(r.status, JSON.stringify(bad)).toBeGreaterThanOrEqual(400)
      expect(r.status, JSON.stringify(bad)).toBeLessThan(500)
    }
  })

  it('answers a huge If-None-Match list without trouble', async () => {
    const tags = Array.from({ length: 500 }, (_, i) => `"t${i}"`).join(', ')
    const r = await request('GET', '/v1/quotes/pol', `If-None-Match: ${tags}\r\n`)
    expect(r.status).toBe(200)
  })
})
