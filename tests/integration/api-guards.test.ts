import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { ErrorResponse } from '../../shared/api.js'
import { type PushApp, startPushApp } from '../helpers/push-app.js'
import { makeQuote, waitFor } from '../helpers/quotes.js'

const open: PushApp[] = []
afterEach(async () => {
  for (const s of open.splice(0)) await s.close()
})

async function server(vars: Record<string, string>) {
  const s = await startPushApp({ vars })
  open.push(s)
  await s.publish([makeQuote('pol', { price: 0.25, seq: 1 })])
  await waitFor(() => s.engine.latest('pol'))
  return s
}

async function get(s: PushApp, path: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await request(`${s.httpUrl}${path}`, { method: method as 'GET', headers })
  const text = await res.body.text()
  const header = (name: string) => {
    const v = res.headers[name]
    return Array.isArray(v) ? v.join(', ') : v
  }
  return { status: res.statusCode, header, text }
}

describe('CORS', () => {
  it('is open to any origin by default, for GET', async () => {
    const s = await server({ PRICEWIRE_RATE_LIMIT: '0' })
    const r = await get(s, '/v1/quotes/pol', { origin: 'https://anything.example' })
    expect(r.status).toBe(200)
    expect(r.header('access-control-allow-origin')).toBe('*')
    expect(r.header('access-control-expose-headers')).toMatch(/ETag/)
    expect(r.header('access-control-expose-headers')).toMatch(/Retry-After/)

    const pre = await get(
      s,
      '/v1/quotes?assets=pol',
      { origin: 'https://anything.example', 'access-control-request-method': 'GET' },
      'OPTIONS',
    )
    expect(pre.status).toBe(204)
    expect(pre.header('access-control-allow-origin')).toBe('*')
    expect(pre.header('access-control-allow-methods')).toMatch(/GET/)
    expect(pre.header('access-control-allow-methods')).not.toMatch(/POST|PUT|DELETE/)
    expect(pre.header('access-control-max-age')).toBe('600')
  })

  it('answers only the configured origins when PRICEWIRE_ALLOWED_ORIGINS is set', async () => {
    const s = await server({
      PRICEWIRE_RATE_LIMIT: '0',
      PRICEWIRE_ALLOWED_ORIGINS: 'https://a.example,https://b.example',
    })
    const allowed = await get(s, '/v1/quotes/pol', { origin: 'https://b.example' })
    expect(allowed.header('access-control-allow-origin')).toBe('https://b.example')
    expect(allowed.header('vary')).toMatch(/Origin/i)
    const other = await get(s, '/v1/quotes/pol', { origin: 'https://evil.example' })
    // The data is public: the request is answered, but the browser is not allowed to read it.
    expect(other.status).toBe(200)
    expect(other.header('access-control-allow-origin')).toBeUndefined()
  })
})

describe('rate limit', () => {
  it('answers 429 with Retry-After and the error shape past the limit', async () => {
    const s = await server({ PRICEWIRE_RATE_LIMIT: '3' })
    for (let i = 0; i < 3; i++) {
      const ok = await get(s, '/v1/quotes/pol')
      expect(ok.status).toBe(200)
      expect(ok.header('x-ratelimit-limit')).toBe('3')
      expect(ok.header('x-ratelimit-remaining')).toBe(String(2 - i))
    }
    const limited = await get(s, '/v1/quotes?assets=pol')
    expect(limited.status).toBe(429)
    const retryAfter = Number(limited.header('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(60)
    const body = ErrorResponse.parse(JSON.parse(limited.text))
    expect(body.error.code).toBe('rate_limited')
    expect(body.error.message).toMatch(/3 requests per minute/)
    expect(body.error.details).toMatchObject({ limit: 3 })
    expect(limited.header('cache-control')).toBe('no-store')
    expect(limited.header('access-control-allow-origin')).toBe('*')
    // Health probes are not counted against clients.
    expect((await get(s, '/healthz')).status).toBe(200)
  })

  it('counts per client IP; trusts X-Forwarded-For only behind a trusted proxy', async () => {
    const behind = await server({ PRICEWIRE_RATE_LIMIT: '2', PRICEWIRE_TRUST_PROXY: '1' })
    const as = (ip: string) => get(behind, '/v1/quotes/pol', { 'x-forwarded-for': ip })
    expect((await as('203.0.113.1')).status).toBe(200)
    expect((await as('203.0.113.1')).status).toBe(200)
    expect((await as('203.0.113.1')).status).toBe(429)
    // Another client behind the same load balancer still has its budget.
    expect((await as('203.0.113.2')).status).toBe(200)

    const direct = await server({ PRICEWIRE_RATE_LIMIT: '2' })
    const spoof = (ip: string) => get(direct, '/v1/quotes/pol', { 'x-forwarded-for': ip })
    expect((await spoof('198.51.100.1')).status).toBe(200)
    expect((await spoof('198.51.100.2')).status).toBe(200)
    // Without trust proxy a forged header changes nothing: same socket address, same budget.
    expect((await spoof('198.51.100.3')).status).toBe(429)
  })

  it('is off with PRICEWIRE_RATE_LIMIT=0', async () => {
    const s = await server({ PRICEWIRE_RATE_LIMIT: '0' })
    for (let i = 0; i < 20; i++) {
      const r = await get(s, '/v1/quotes/pol')
      expect(r.status).toBe(200)
      expect(r.header('x-ratelimit-limit')).toBeUndefined()
    }
  })
})

describe('load shedding', () => {
  it('answers 503 overloaded with Retry-After while the event loop is saturated, then recovers', async () => {
    const s = await server({ PRICEWIRE_RATE_LIMIT: '0' })
    // The server runs in this process: blocking it here saturates its event loop for real.
    let shed: Awaited<ReturnType<typeof get>> | undefined
    for (let attempt = 0; attempt < 3 && !shed; attempt++) {
      const until = Date.now() + 2_500
      while (Date.now() < until) {
        // busy: no timer, socket or request runs meanwhile
      }
      const r = await get(s, '/v1/quotes/pol')
      if (r.status === 503) shed = r
    }
    expect(shed?.status).toBe(503)
    expect(shed!.header('retry-after')).toBe('5')
    expect(shed!.header('access-control-allow-origin')).toBe('*')
    expect(ErrorResponse.parse(JSON.parse(shed!.text)).error.code).toBe('overloaded')
    // Once the loop breathes again, requests are served.
    await waitFor(async () => (await get(s, '/v1/quotes/pol')).status === 200, 10_000, 100)
  }, 30_000)
})

describe('security headers', () => {
  it('sets helmet headers on the HTML docs page, not on JSON', async () => {
    const s = await server({ PRICEWIRE_RATE_LIMIT: '0' })
    const html = await get(s, '/docs/')
    expect(html.status).toBe(200)
    expect(html.header('content-type')).toMatch(/^text\/html/)
    expect(html.header('content-security-policy')).toMatch(/default-src 'self'/)
    expect(html.header('content-security-policy')).not.toMatch(/upgrade-insecure-requests/)
    expect(html.header('x-content-type-options')).toBe('nosniff')
    expect(html.header('x-frame-options')).toBe('SAMEORIGIN')
    expect(html.header('strict-transport-security')).toBeUndefined()

    const json = await get(s, '/v1/quotes/pol')
    expect(json.header('content-security-policy')).toBeUndefined()
  })

  it('never sends a stack trace or internal message on errors', async () => {
    const s = await server({ PRICEWIRE_RATE_LIMIT: '0' })
    for (const path of [
      '/v1/quotes/%E0%A4%A',
      '/v1/quotes?assets=%ZZ',
      '/v1/badge/pol.svg?theme=%00',
      '/v1/quotes/pol%00',
    ]) {
      const r = await get(s, path)
      expect(r.status, path).toBeGreaterThanOrEqual(400)
      expect(r.status, path).toBeLessThan(500)
      const body = ErrorResponse.parse(JSON.parse(r.text))
      expect(body.error.message).not.toMatch(/node_modules|\.ts:|\.js:|Error:/)
    }
  })
})
