import SwaggerParser from '@apidevtools/swagger-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PushApp, startPushApp } from '../helpers/push-app.js'

let s: PushApp
beforeAll(async () => {
  s = await startPushApp({ vars: { PRICEWIRE_RATE_LIMIT: '0' } })
})
afterAll(async () => {
  await s?.close()
})

/** Every REST and operations route the app serves, as OpenAPI paths. */
const ROUTES = [
  '/v1/quotes',
  '/v1/quotes/{asset}',
  '/v1/history/{asset}',
  '/v1/assets',
  '/v1/badge/{asset}.svg',
  '/metrics',
  '/healthz',
  '/readyz',
]

interface OpenApiDoc {
  openapi: string
  paths: Record<
    string,
    Record<string, { responses: Record<string, unknown>; parameters?: { name: string }[] }>
  >
  components: { schemas: Record<string, unknown> }
}

describe('OpenAPI document', () => {
  it('is served at /docs/json and validates as OpenAPI 3', async () => {
    const res = await fetch(`${s.httpUrl}/docs/json`)
    expect(res.status).toBe(200)
    const doc = (await res.json()) as OpenApiDoc
    expect(doc.openapi).toMatch(/^3\./)
    const validated = (await SwaggerParser.validate(structuredClone(doc) as never)) as unknown as OpenApiDoc
    expect(Object.keys(validated.paths).length).toBeGreaterThan(0)
  })

  it('lists every route, and only those', async () => {
    const doc = (await (await fetch(`${s.httpUrl}/docs/json`)).json()) as OpenApiDoc
    expect(Object.keys(doc.paths).sort()).toEqual([...ROUTES].sort())
    for (const path of ROUTES) {
      expect(Object.keys(doc.paths[path]!), path).toContain('get')
      const fastifyPath = path.replace(/\{(\w+)\}/g, ':$1')
      expect(s.app.hasRoute({ method: 'GET', url: fastifyPath }), fastifyPath).toBe(true)
    }
  })

  it('derives parameters and responses from the shared zod schemas', async () => {
    const doc = (await (await fetch(`${s.httpUrl}/docs/json`)).json()) as OpenApiDoc
    const quotes = doc.paths['/v1/quotes']!.get!
    expect(quotes.parameters!.map((p) => p.name)).toEqual(['assets'])
    expect(Object.keys(quotes.responses)).toEqual(expect.arrayContaining(['200', '400', '404', '429']))
    const history = doc.paths['/v1/history/{asset}']!.get!
    expect(history.parameters!.map((p) => p.name).sort()).toEqual(['asset', 'window'])
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['Quote', 'QuotesResponse', 'HistoryResponse', 'AssetsResponse', 'Error']),
    )
    const quote = doc.components.schemas.Quote as { properties: Record<string, unknown> }
    expect(Object.keys(quote.properties)).toEqual(
      expect.arrayContaining(['asset', 'price', 'change24h', 'seq', 'stale', 'sources']),
    )
  })

  it('serves the UI at /docs with security headers', async () => {
    const res = await fetch(`${s.httpUrl}/docs/`, { redirect: 'follow' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await res.text()).toMatch(/swagger/i)
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
  })
})

describe('operations endpoints', () => {
  it('/healthz and /readyz answer', async () => {
    const health = await fetch(`${s.httpUrl}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${s.httpUrl}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ready', engine: 'memory', node: s.ctx.config.nodeId })
  })

  it('/metrics is Prometheus text with HTTP, engine, source and WebSocket metrics', async () => {
    await (await fetch(`${s.httpUrl}/v1/quotes/nope`)).arrayBuffer()
    await (await fetch(`${s.httpUrl}/no/such/path/${Math.random()}`)).arrayBuffer()
    const res = await fetch(`${s.httpUrl}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    const text = await res.text()
    for (const name of [
      'pricewire_http_requests_total',
      'pricewire_http_request_duration_seconds',
      'pricewire_engine_ready',
      'pricewire_source_requests_total',
      'pricewire_ws_connections',
    ]) {
      expect(text, name).toContain(`# TYPE ${name}`)
    }
    expect(text).toMatch(
      /pricewire_http_requests_total\{[^}]*route="\/v1\/quotes\/:asset"[^}]*status="404"[^}]*\} 1/,
    )
    // Random paths never become labels.
    expect(text).not.toContain('/no/such/path')
    expect(text).toMatch(/route="unmatched"/)
  })
})
