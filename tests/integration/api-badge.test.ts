import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorResponse } from '../../shared/api.js'
import { formatCompact, formatPrice } from '../../shared/format.js'
import { fetchText } from '../helpers/http.js'
import { type PushApp, startPushApp } from '../helpers/push-app.js'
import { makeQuote, waitFor } from '../helpers/quotes.js'

let s: PushApp
beforeAll(async () => {
  s = await startPushApp({ vars: { PRICEWIRE_RATE_LIMIT: '0', PRICEWIRE_POLL_MS: '10000' } })
  await s.publish([
    makeQuote('pol', {
      price: 0.2512,
      seq: 1,
      symbol: 'POL',
      name: 'Polygon',
      change24h: 3.25,
      volatility24h: 4.5,
      marketCap: 2_500_000_000,
      volume24h: 123_000_000,
    }),
    makeQuote('btc', { price: 91_234.5, seq: 1, symbol: 'BTC', name: 'Bitcoin', change24h: -2 }),
  ])
  await waitFor(() => s.engine.latest('btc'))
})
afterAll(async () => {
  await s?.close()
})

const get = (path: string, headers: Record<string, string> = {}) => fetchText(`${s.httpUrl}${path}`, headers)

/** The visible texts of a badge (each is drawn twice: shadow and text). */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text [^>]*y="14"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!)
}

describe('GET /v1/badge/:asset.svg', () => {
  it('draws symbol and price as an SVG image with cache headers', async () => {
    const r = await get('/v1/badge/pol.svg')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8')
    expect(r.headers.get('cache-control')).toBe('public, max-age=10')
    expect(r.headers.get('x-content-type-options')).toBe('nosniff')
    expect(r.headers.get('etag')).toMatch(/^"/)
    expect(r.text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(r.text.endsWith('</svg>')).toBe(true)
    expect(texts(r.text)).toEqual(['POL', '$0.2512'])
    expect(r.text).toContain('<title>Polygon (POL): $0.2512</title>')
    expect(r.text).toContain('role="img"')
  })

  it('adds the show boxes in order, ignoring repeats', async () => {
    const r = await get('/v1/badge/pol.svg?show=change,volatility,marketcap,volume,change')
    expect(r.status).toBe(200)
    expect(texts(r.text)).toEqual([
      'POL',
      '$0.2512',
      '24h ▲ +3.25%',
      'volatility 4.50%',
      `mcap ${formatCompact(2_500_000_000, 'en-US')}`,
      `vol ${formatCompact(123_000_000, 'en-US')}`,
    ])
  })

  it('colours a fall red and differs per theme', async () => {
    const light = await get('/v1/badge/btc.svg?show=change')
    const dark = await get('/v1/badge/btc.svg?show=change&theme=dark')
    expect(texts(light.text)[2]).toMatch(/^24h ▼ -2(\.00)?%$/)
    expect(light.text).toContain('fill="#c62828"')
    expect(dark.text).toContain('fill="#b62324"')
    expect(dark.headers.get('etag')).not.toBe(light.headers.get('etag'))
  })

  it('answers 304 on a matching If-None-Match and changes when the quote does', async () => {
    const first = await get('/v1/badge/btc.svg')
    const etag = first.headers.get('etag')!
    expect((await get('/v1/badge/btc.svg', { 'if-none-match': etag })).status).toBe(304)
    await s.publish([makeQuote('btc', { price: 92_000, seq: 2, symbol: 'BTC', name: 'Bitcoin' })])
    const after = await get('/v1/badge/btc.svg', { 'if-none-match': etag })
    expect(after.status).toBe(200)
    expect(texts(after.text)[1]).toBe(formatPrice(92_000, 'en-US'))
  })

  it('marks a stale quote', async () => {
    await s.publish([
      makeQuote('sol', { price: 150, seq: 1, symbol: 'SOL', updatedAt: Date.now() - 3_600_000 }),
    ])
    const r = await get('/v1/badge/sol.svg')
    expect(texts(r.text)).toEqual(['SOL', '$150.00', 'stale'])
  })

  it('says "no data yet" for a known asset without a quote', async () => {
    const r = await get('/v1/badge/eth.svg')
    expect(r.status).toBe(200)
    expect(texts(r.text)).toEqual(['ETH', 'no data yet'])
  })

  it('answers 404 with an "unknown asset" badge', async () => {
    const r = await get('/v1/badge/nope.svg')
    expect(r.status).toBe(404)
    expect(r.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8')
    expect(texts(r.text)).toEqual(['nope', 'unknown asset'])
  })

  it.each([
    ['theme=blue', 'theme'],
    ['show=price', 'show'],
    ['show=change,%3Cscript%3E', 'show'],
  ])('answers a JSON 400 for %s', async (query, field) => {
    const r = await get(`/v1/badge/pol.svg?${query}`)
    expect(r.status).toBe(400)
    const body = ErrorResponse.parse(JSON.parse(r.text))
    expect(body.error.code).toBe('invalid_request')
    expect(body.error.message).toContain(field)
    expect(r.text).not.toContain('<script>')
  })

  it('answers a JSON 400 for a bad asset name and 404 without the .svg suffix', async () => {
    const bad = await get('/v1/badge/%3Cscript%3E.svg')
    expect(bad.status).toBe(400)
    expect(bad.headers.get('content-type')).toMatch(/^application\/json/)
    const noSuffix = await get('/v1/badge/pol')
    expect(noSuffix.status).toBe(404)
  })
})
