import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorResponse, QuotesResponse } from '../../shared/api.js'
import { Quote } from '../../shared/quote.js'
import { fetchText } from '../helpers/http.js'
import { type PushApp, startPushApp } from '../helpers/push-app.js'
import { makeQuote, waitFor } from '../helpers/quotes.js'

let s: PushApp
beforeAll(async () => {
  s = await startPushApp({ vars: { PRICEWIRE_RATE_LIMIT: '0', PRICEWIRE_POLL_MS: '5000' } })
  await s.publish([
    makeQuote('pol', { price: 0.25, seq: 3, symbol: 'POL', name: 'Polygon', change24h: -1.5 }),
    makeQuote('btc', { price: 91_234.5, seq: 7, symbol: 'BTC', name: 'Bitcoin', volume24h: 1e9 }),
    makeQuote('talus', { price: 0.0123, seq: 1, symbol: 'US', name: 'Talus' }),
  ])
  await waitFor(() => s.engine.latest('talus'))
})
afterAll(async () => {
  await s?.close()
})

const get = (path: string, headers: Record<string, string> = {}) => fetchText(`${s.httpUrl}${path}`, headers)

describe('GET /v1/quotes', () => {
  it('answers the quotes asked, in order, with exactly the published values', async () => {
    const r = await get('/v1/quotes?assets=btc,pol')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8')
    const body = QuotesResponse.parse(r.json())
    expect(body.missing).toEqual([])
    expect(body.data.map((q) => [q.asset, q.price, q.seq])).toEqual([
      ['btc', 91_234.5, 7],
      ['pol', 0.25, 3],
    ])
    expect(body.data[0]).toEqual(s.engine.latest('btc'))
    expect(body.data[1]!.change24h).toBe(-1.5)
  })

  it('lists unknown ids in missing and answers repeats once', async () => {
    const r = await get('/v1/quotes?assets=pol,nope,pol,zzz-1')
    expect(r.status).toBe(200)
    const body = QuotesResponse.parse(r.json())
    expect(body.data.map((q) => q.asset)).toEqual(['pol'])
    expect(body.missing).toEqual(['nope', 'zzz-1'])
  })

  it('lists known assets that have no quote yet in missing', async () => {
    const r = await get('/v1/quotes?assets=pol,eth')
    expect(r.status).toBe(200)
    expect(QuotesResponse.parse(r.json()).missing).toEqual(['eth'])
  })

  it('accepts a case-insensitive id and an unambiguous symbol (US → talus)', async () => {
    const r = await get('/v1/quotes?assets=US,POL')
    expect(r.status).toBe(200)
    const body = QuotesResponse.parse(r.json())
    expect(body.data.map((q) => q.asset)).toEqual(['talus', 'pol'])
    expect(body.missing).toEqual([])
  })

  it('answers 404 naming the assets when none is known', async () => {
    const r = await get('/v1/quotes?assets=nope,nada')
    expect(r.status).toBe(404)
    const body = ErrorResponse.parse(r.json())
    expect(body.error.code).toBe('unknown_assets')
    expect(body.error.message).toContain('nope')
    expect(body.error.details).toEqual({ missing: ['nope', 'nada'] })
  })

  it('answers 400 over 100 ids, and 200 at exactly 100', async () => {
    const ids = (n: number) => ['pol', ...Array.from({ length: n - 1 }, (_, i) => `x${i}`)].join(',')
    const over = await get(`/v1/quotes?assets=${ids(101)}`)
    expect(over.status).toBe(400)
    const err = ErrorResponse.parse(over.json())
    expect(err.error.code).toBe('too_many_assets')
    expect(err.error.details).toEqual({ max: 100, count: 101 })
    const at = await get(`/v1/quotes?assets=${ids(100)}`)
    expect(at.status).toBe(200)
    expect(QuotesResponse.parse(at.json()).missing).toHaveLength(99)
  })

  it.each([
    ['no assets parameter', '/v1/quotes'],
    ['an empty list', '/v1/quotes?assets='],
    ['spaces', '/v1/quotes?assets=pol,%20btc'],
    ['an empty item', '/v1/quotes?assets=pol,,btc'],
    ['markup', '/v1/quotes?assets=%3Cscript%3E'],
    ['the parameter twice', '/v1/quotes?assets=pol&assets=btc'],
  ])('answers 400 with zod issues for %s', async (_name, path) => {
    const r = await get(path)
    expect(r.status).toBe(400)
    const body = ErrorResponse.parse(r.json())
    expect(body.error.code).toBe('invalid_request')
    expect(body.error.message).toMatch(/querystring/)
    const { issues } = body.error.details as { issues: { in: string; path: string; message: string }[] }
    expect(issues.length).toBeGreaterThan(0)
    expect(issues[0]!.in).toBe('querystring')
    expect(r.text).not.toMatch(/at .*\.(ts|js):\d+/)
    expect(r.text).not.toContain('<')
  })

  it('sends an ETag and Cache-Control; 304 exactly on a matching If-None-Match', async () => {
    const first = await get('/v1/quotes?assets=pol,btc')
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"[^"]+"$/)
    expect(first.headers.get('cache-control')).toBe('public, max-age=5')

    const again = await get('/v1/quotes?assets=pol,btc', { 'if-none-match': etag })
    expect(again.status).toBe(304)
    expect(again.text).toBe('')
    expect(again.headers.get('etag')).toBe(etag)

    const listed = await get('/v1/quotes?assets=pol,btc', { 'if-none-match': `"nope", W/${etag}` })
    expect(listed.status).toBe(304)

    const other = await get('/v1/quotes?assets=pol,btc', { 'if-none-match': '"something-else"' })
    expect(other.status).toBe(200)
    expect(other.text).toBe(first.text)

    // A different asset set is a different representation.
    const reordered = await get('/v1/quotes?assets=btc,pol', { 'if-none-match': etag })
    expect(reordered.status).toBe(200)
    expect(reordered.headers.get('etag')).not.toBe(etag)
  })

  it('changes the body and ETag when a quote changes', async () => {
    const before = await get('/v1/quotes?assets=pol')
    await s.publish([makeQuote('pol', { price: 0.2625, seq: 4, symbol: 'POL', name: 'Polygon' })])
    const after = await get('/v1/quotes?assets=pol', { 'if-none-match': before.headers.get('etag')! })
    expect(after.status).toBe(200)
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'))
    const body = QuotesResponse.parse(after.json())
    expect(body.data[0]!.price).toBe(0.2625)
    expect(body.data[0]!.seq).toBe(4)
  })

  it('flags a quote stale once it is older than the freshness limit', async () => {
    const old = Date.now() - 10 * 60_000
    await s.publish([makeQuote('sol', { price: 150, seq: 1, updatedAt: old })])
    const r = await get('/v1/quotes?assets=sol')
    const [q] = QuotesResponse.parse(r.json()).data
    expect(q!.stale).toBe(true)
    expect(q!.price).toBe(150)
  })

  it('serves CORS for any origin by default', async () => {
    const r = await get('/v1/quotes?assets=pol', { origin: 'https://blog.example' })
    expect(r.headers.get('access-control-allow-origin')).toBe('*')
    expect(r.headers.get('access-control-expose-headers')).toMatch(/ETag/i)
  })
})

describe('GET /v1/quotes/:asset', () => {
  it('answers the quote', async () => {
    const r = await get('/v1/quotes/btc')
    expect(r.status).toBe(200)
    const q = Quote.parse(r.json())
    expect(q).toEqual(s.engine.latest('btc'))
    expect(r.headers.get('etag')).toBeTruthy()
    expect(r.headers.get('cache-control')).toBe('public, max-age=5')
  })

  it('accepts an upper-case id and a symbol', async () => {
    expect(Quote.parse((await get('/v1/quotes/BTC')).json()).asset).toBe('btc')
    expect(Quote.parse((await get('/v1/quotes/US')).json()).asset).toBe('talus')
  })

  it('answers 304 on a matching If-None-Match', async () => {
    const first = await get('/v1/quotes/talus')
    const again = await get('/v1/quotes/talus', { 'if-none-match': first.headers.get('etag')! })
    expect(again.status).toBe(304)
  })

  it('answers 404 naming an unknown asset', async () => {
    const r = await get('/v1/quotes/dogecoin')
    expect(r.status).toBe(404)
    const body = ErrorResponse.parse(r.json())
    expect(body.error.code).toBe('unknown_asset')
    expect(body.error.message).toContain('dogecoin')
    expect(body.error.details).toEqual({ asset: 'dogecoin' })
    expect(r.headers.get('cache-control')).toBe('no-store')
    expect(r.headers.get('etag')).toBeNull()
  })

  it('answers 503 with Retry-After for a known asset not quoted yet', async () => {
    const r = await get('/v1/quotes/eth')
    expect(r.status).toBe(503)
    expect(ErrorResponse.parse(r.json()).error.code).toBe('quote_unavailable')
    expect(r.headers.get('retry-after')).toBe('5')
  })

  it('answers 400 for an asset name with bad characters', async () => {
    for (const path of ['/v1/quotes/%3Cb%3E', '/v1/quotes/a%20b', `/v1/quotes/${'a'.repeat(41)}`]) {
      const r = await get(path)
      expect(r.status, path).toBe(400)
      expect(ErrorResponse.parse(r.json()).error.code).toBe('invalid_request')
    }
  })

  it('answers HEAD like GET without a body', async () => {
    const res = await fetch(`${s.httpUrl}/v1/quotes/btc`, { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(res.headers.get('etag')).toBeTruthy()
    expect(await res.text()).toBe('')
  })
})
