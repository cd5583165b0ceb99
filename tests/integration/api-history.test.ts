import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorResponse, HistoryResponse } from '../../shared/api.js'
import type { HistoryPoint } from '../../shared/quote.js'
import { fetchText } from '../helpers/http.js'
import { type PushApp, startPushApp } from '../helpers/push-app.js'

let s: PushApp
const now = Date.now()
const FIVE_MIN = 5 * 60_000
const HOUR = 60 * 60_000
const day: HistoryPoint[] = Array.from({ length: 10 }, (_, i) => [now - (10 - i) * FIVE_MIN, 0.2 + i / 100])
const week: HistoryPoint[] = Array.from({ length: 5 }, (_, i) => [now - (5 - i) * 24 * HOUR, 0.3 + i / 10])

beforeAll(async () => {
  s = await startPushApp({ vars: { PRICEWIRE_RATE_LIMIT: '0', PRICEWIRE_POLL_MS: '2000' } })
  // One point older than the 24 h window, which must not be answered.
  await s.engine.appendHistory('pol', '5m', [[now - 24 * HOUR - FIVE_MIN, 0.1], ...day])
  await s.engine.appendHistory('pol', '1h', week)
})
afterAll(async () => {
  await s?.close()
})

const get = (path: string, headers: Record<string, string> = {}) => fetchText(`${s.httpUrl}${path}`, headers)

describe('GET /v1/history/:asset', () => {
  it('answers 5-minute points of the last 24 h by default, oldest first', async () => {
    const r = await get('/v1/history/pol')
    expect(r.status).toBe(200)
    const body = HistoryResponse.parse(r.json())
    expect(body).toEqual({ asset: 'pol', resolution: '5m', points: day })
    expect(r.headers.get('cache-control')).toBe('public, max-age=2')
    expect(r.headers.get('etag')).toMatch(/^"/)
  })

  it('answers 1-hour points for window=7d', async () => {
    const r = await get('/v1/history/POL?window=7d')
    expect(r.status).toBe(200)
    expect(HistoryResponse.parse(r.json())).toEqual({ asset: 'pol', resolution: '1h', points: week })
  })

  it('answers an empty list for a known asset without history', async () => {
    const r = await get('/v1/history/US')
    expect(r.status).toBe(200)
    expect(HistoryResponse.parse(r.json())).toEqual({ asset: 'talus', resolution: '5m', points: [] })
  })

  it('answers 304 on a matching If-None-Match', async () => {
    const first = await get('/v1/history/pol?window=24h')
    const again = await get('/v1/history/pol?window=24h', { 'if-none-match': first.headers.get('etag')! })
    expect(again.status).toBe(304)
    expect(again.text).toBe('')
  })

  it('answers 404 naming an unknown asset', async () => {
    const r = await get('/v1/history/nope')
    expect(r.status).toBe(404)
    const body = ErrorResponse.parse(r.json())
    expect(body.error.code).toBe('unknown_asset')
    expect(body.error.message).toContain('nope')
  })

  it.each(['1y', '', '24H', '7d,24h'])('answers 400 for window=%s with zod issues', async (window) => {
    const r = await get(`/v1/history/pol?window=${encodeURIComponent(window)}`)
    expect(r.status).toBe(400)
    const body = ErrorResponse.parse(r.json())
    expect(body.error.code).toBe('invalid_request')
    const { issues } = body.error.details as { issues: { in: string; path: string }[] }
    expect(issues[0]).toMatchObject({ in: 'querystring', path: '/window' })
  })

  it('answers 400 for a bad asset name', async () => {
    const r = await get('/v1/history/%22%3E%3Cx')
    expect(r.status).toBe(400)
    expect(ErrorResponse.parse(r.json()).error.code).toBe('invalid_request')
  })
})
