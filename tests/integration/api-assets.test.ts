import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AssetsResponse } from '../../shared/api.js'
import { type PushApp, startPushApp } from '../helpers/push-app.js'

let s: PushApp
beforeAll(async () => {
  s = await startPushApp({ vars: { PRICEWIRE_RATE_LIMIT: '0' } })
})
afterAll(async () => {
  await s?.close()
})

describe('GET /v1/assets', () => {
  it('lists the registry: id, symbol, name, sources, logo', async () => {
    const res = await fetch(`${s.httpUrl}/v1/assets`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    const body = AssetsResponse.parse(await res.json())
    expect(body.data.map((a) => a.id)).toEqual(s.ctx.registry.ids())
    expect(body.data.map((a) => a.id)).toEqual(expect.arrayContaining(['btc', 'eth', 'sol', 'pol', 'talus']))
    const talus = body.data.find((a) => a.id === 'talus')!
    expect(talus).toEqual({
      id: 'talus',
      symbol: 'US',
      name: 'Talus',
      sources: s.ctx.registry.get('talus')!.markets.map((m) => m.source),
      logo: null,
    })
    expect(Object.keys(talus).sort()).toEqual(['id', 'logo', 'name', 'sources', 'symbol'])
  })

  it('sends an ETag and answers 304 on a match', async () => {
    const first = await fetch(`${s.httpUrl}/v1/assets`)
    await first.arrayBuffer()
    const etag = first.headers.get('etag')!
    expect(first.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/)
    const again = await fetch(`${s.httpUrl}/v1/assets`, { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    const star = await fetch(`${s.httpUrl}/v1/assets`, { headers: { 'if-none-match': '*' } })
    expect(star.status).toBe(304)
  })

  it('answers unknown routes and methods with the error shape', async () => {
    const res = await fetch(`${s.httpUrl}/v1/assets/extra`)
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({
      error: { code: 'not_found', message: 'no route for GET /v1/assets/extra' },
    })
    const post = await fetch(`${s.httpUrl}/v1/assets`, { method: 'POST', body: '{}' })
    expect([404, 405]).toContain(post.status)
    const body = (await post.json()) as { error: { code: string } }
    expect(body.error.code).toMatch(/not_found|method_not_allowed/)
  })
})
