import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ErrorResponse, QuotesResponse } from '../../shared/api.js'
import { Quote } from '../../shared/quote.js'
import { fetchText } from '../helpers/http.js'
import { type PushApp, startPushApp } from '../helpers/push-app.js'
import { makeQuote, waitFor } from '../helpers/quotes.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'

let redis: TestRedis
let prefix = 0
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})

const open: PushApp[] = []
afterEach(async () => {
  for (const s of open.splice(0)) await s.close()
  // Every test leaves a running Redis for the next one.
  if (!(await isUp())) await redis.restart()
})

async function isUp(): Promise<boolean> {
  const { createConnection } = await import('node:net')
  return new Promise((resolve) => {
    const c = createConnection({ port: redis.port, host: '127.0.0.1' }, () => {
      c.end()
      resolve(true)
    })
    c.on('error', () => resolve(false))
  })
}

async function node(vars: Record<string, string> = {}, ns = `api${++prefix}:`) {
  const s = await startPushApp({
    vars: { REDIS_URL: redis.url, PRICEWIRE_REDIS_PREFIX: ns, PRICEWIRE_RATE_LIMIT: '0', ...vars },
  })
  open.push(s)
  await waitFor(() => s.engine.readiness().ready)
  return s
}

const get = (s: PushApp, path: string, headers: Record<string, string> = {}) =>
  fetchText(`${s.httpUrl}${path}`, headers)

describe('REST with the Redis engine', () => {
  it('answers from the local mirror, fed by the bus from another node', async () => {
    const ns = `api${++prefix}:`
    const leader = await node({}, ns)
    const reader = await node({}, ns)
    await leader.publish([
      makeQuote('pol', { price: 0.31, seq: 5 }),
      makeQuote('btc', { price: 90_000, seq: 9 }),
    ])
    await waitFor(() => reader.engine.latest('btc'))
    const r = await get(reader, '/v1/quotes?assets=pol,btc')
    expect(r.status).toBe(200)
    const body = QuotesResponse.parse(r.json())
    expect(body.data.map((q) => [q.asset, q.price, q.seq, q.stale])).toEqual([
      ['pol', 0.31, 5, false],
      ['btc', 90_000, 9, false],
    ])
  })

  it('keeps answering 200 with stale flags while Redis is down, and recovers', async () => {
    const s = await node()
    await s.publish([makeQuote('pol', { price: 0.25, seq: 1 }), makeQuote('talus', { price: 0.01, seq: 1 })])
    await s.engine.appendHistory('pol', '5m', [[Date.now() - 60_000, 0.25]])
    const before = await get(s, '/v1/quotes?assets=pol,talus')
    expect(QuotesResponse.parse(before.json()).data.every((q) => !q.stale)).toBe(true)
    const etagBefore = before.headers.get('etag')!
    const badgeBefore = await get(s, '/v1/badge/pol.svg')
    expect(badgeBefore.text).not.toContain('>stale<')

    await redis.kill()
    await waitFor(() => !s.engine.readiness().ready)

    const list = await get(s, '/v1/quotes?assets=pol,talus', { 'if-none-match': etagBefore })
    expect(list.status).toBe(200)
    const body = QuotesResponse.parse(list.json())
    expect(body.data.map((q) => [q.asset, q.price, q.stale])).toEqual([
      ['pol', 0.25, true],
      ['talus', 0.01, true],
    ])
    expect(list.headers.get('etag')).not.toBe(etagBefore)

    const one = await get(s, '/v1/quotes/pol')
    expect(one.status).toBe(200)
    expect(Quote.parse(one.json())).toMatchObject({ price: 0.25, stale: true })

    const badge = await get(s, '/v1/badge/pol.svg')
    expect(badge.status).toBe(200)
    expect(badge.text).toContain('>stale<')

    expect((await get(s, '/v1/assets')).status).toBe(200)
    const ready = await get(s, '/readyz')
    expect(ready.status).toBe(503)
    expect(ErrorResponse.parse(ready.json()).error.code).toBe('not_ready')
    expect((await get(s, '/healthz')).status).toBe(200)

    // History lives in Redis only: a clean 503 with Retry-After, never a 500.
    const history = await get(s, '/v1/history/pol')
    expect(history.status).toBe(503)
    expect(ErrorResponse.parse(history.json()).error.code).toBe('history_unavailable')
    expect(history.headers.get('retry-after')).toBeTruthy()

    await redis.restart()
    await waitFor(() => s.engine.readiness().ready, 10_000)
    const after = await get(s, '/v1/quotes?assets=pol,talus')
    expect(QuotesResponse.parse(after.json()).data.map((q) => q.stale)).toEqual([false, false])
    expect(after.headers.get('etag')).toBe(etagBefore)
  })

  it('shares the rate limit across nodes through Redis, and lets requests through while Redis is down', async () => {
    const ns = `api${++prefix}:`
    const a = await node({ PRICEWIRE_RATE_LIMIT: '3' }, ns)
    const b = await node({ PRICEWIRE_RATE_LIMIT: '3' }, ns)
    await a.publish([makeQuote('pol', { price: 0.25, seq: 1 })])
    await waitFor(() => b.engine.latest('pol'))
    // The limiter's own connection may still be connecting right after start.
    await waitFor(async () => (await get(a, '/v1/quotes/pol')).headers.get('x-ratelimit-remaining') === '2')
    expect((await get(b, '/v1/quotes/pol')).status).toBe(200)
    expect((await get(a, '/v1/quotes/pol')).status).toBe(200)
    const limited = await get(b, '/v1/quotes/pol')
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)

    await redis.kill()
    await waitFor(() => !a.engine.readiness().ready)
    for (let i = 0; i < 5; i++) {
      const r = await get(a, '/v1/quotes/pol')
      expect(r.status).toBe(200)
      expect(Quote.parse(r.json()).stale).toBe(true)
    }
  })
})
