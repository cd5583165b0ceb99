import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AssetsResponse, QuotesResponse } from '../../shared/api.js'
import { Quote } from '../../shared/quote.js'
import { type PushApp, startPushApp } from '../helpers/push-app.js'
import { makeQuote, waitFor } from '../helpers/quotes.js'

/** Registry entries whose text tries to break out of JSON, HTML and SVG, or to reorder what is shown. */
const HOSTILE = [
  { id: 'xss', symbol: '<script>', name: '</svg><script>alert(1)</script>' },
  { id: 'quotes', symbol: `"'&amp;`, name: `" onload="alert(1)" x='` },
  { id: 'rtl', symbol: 'US\u202e', name: '\u202egnp.exe\u2066x\u2069 \u200fname\u200e' },
  { id: 'cdata', symbol: ']]>', name: '<![CDATA[<script>]]><!-- --><?xml x?>' },
  { id: 'ctrl', symbol: 'A\u0000B\u0007', name: 'line\u2028sep\u2029para\r\n<b>' },
]

let dir: string
let s: PushApp
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pricewire-hostile-'))
  const file = join(dir, 'assets.json')
  const assets = HOSTILE.map((a) => ({ ...a, markets: [] as unknown[] }))
  assets[0] = { ...assets[0]!, logo: 'javascript:alert(1)' } as (typeof assets)[number]
  assets[1] = { ...assets[1]!, logo: 'https://cdn.example/q.png?"><script>' } as (typeof assets)[number]
  writeFileSync(file, JSON.stringify({ assets }))
  s = await startPushApp({ vars: { PRICEWIRE_ASSETS_FILE: file, PRICEWIRE_RATE_LIMIT: '0' } })
  await s.publish(
    HOSTILE.map((a, i) =>
      makeQuote(a.id, {
        symbol: a.symbol,
        name: a.name,
        price: 1.5 + i,
        seq: 1,
        change24h: 2,
        volume24h: 1e6,
      }),
    ),
  )
  await waitFor(() => HOSTILE.every((a) => s.engine.latest(a.id)))
})
afterAll(async () => {
  await s?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function get(path: string) {
  const res = await fetch(`${s.httpUrl}${path}`)
  return { status: res.status, headers: res.headers, text: await res.text() }
}

/** Characters that must never appear raw in a JSON body: markup and text-direction controls. */
const RAW_DANGER = /[<>&\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/

describe('a hostile asset registry', () => {
  it('is listed by /v1/assets with the values intact and no raw markup in the bytes', async () => {
    const r = await get('/v1/assets')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(r.text).not.toMatch(RAW_DANGER)
    const body = AssetsResponse.parse(JSON.parse(r.text))
    expect(body.data.map((a) => [a.id, a.symbol, a.name])).toEqual(
      HOSTILE.map((a) => [a.id, a.symbol, a.name]),
    )
  })

  it('never hands out a logo that is not an http(s) URL', async () => {
    const body = AssetsResponse.parse(JSON.parse((await get('/v1/assets')).text))
    const logos = Object.fromEntries(body.data.map((a) => [a.id, a.logo]))
    expect(logos.xss).toBeNull()
    expect(logos.quotes).toBe('https://cdn.example/q.png?"><script>')
  })

  it('answers quotes with the values intact and no raw markup in the bytes', async () => {
    const r = await get(`/v1/quotes?assets=${HOSTILE.map((a) => a.id).join(',')}`)
    expect(r.status).toBe(200)
    expect(r.text).not.toMatch(RAW_DANGER)
    const body = QuotesResponse.parse(JSON.parse(r.text))
    expect(body.data.map((q) => [q.asset, q.symbol, q.name])).toEqual(
      HOSTILE.map((a) => [a.id, a.symbol, a.name]),
    )
    for (const a of HOSTILE) {
      const one = await get(`/v1/quotes/${a.id}`)
      expect(one.text).not.toMatch(RAW_DANGER)
      expect(Quote.parse(JSON.parse(one.text)).name).toBe(a.name)
    }
  })

  it.each(HOSTILE.map((a) => [a.id]))(
    'draws the %s badge as plain text inside a well-formed SVG',
    async (id) => {
      const r = await get(`/v1/badge/${id}.svg?show=change,volume`)
      expect(r.status).toBe(200)
      expect(r.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8')
      expect(r.headers.get('content-security-policy')).toMatch(/default-src 'none'/)
      const svg = r.text
      // Only the badge's own elements, each opened and closed; no script, no event handler, no CDATA/comment/PI.
      const tags = [...svg.matchAll(/<\/?([A-Za-z][\w:-]*)/g)].map((m) => m[1]!)
      expect(new Set(tags)).toEqual(
        new Set(['svg', 'title', 'linearGradient', 'stop', 'clipPath', 'rect', 'g', 'text']),
      )
      expect(svg).not.toMatch(/<!|<\?|<script|\son\w+\s*=\s*["']/i)
      expect(svg.match(/<svg/g)).toHaveLength(1)
      expect(svg.endsWith('</svg>')).toBe(true)
      // Every '<' starts one of those tags; every '&' starts an entity.
      expect(svg.match(/</g)!.length).toBe(tags.length)
      expect(svg).not.toMatch(/&(?!(?:amp|lt|gt|quot|#39);)/)
      // No control, bidi or separator characters survive into the image.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
      expect(svg).not.toMatch(/[\u0000-\u001f\u007f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/)
      // Attribute values stay inside their quotes: every attribute is name="value" with no stray quote.
      for (const tag of svg.matchAll(/<([A-Za-z]+)((?:\s[^>]*)?)\/?>/g)) {
        const attrs = tag[2]!.replace(/\s[\w:-]+="[^"<>]*"/g, '').replace(/\/$/, '')
        expect(attrs.trim(), tag[0]).toBe('')
      }
    },
  )

  it('keeps the hostile text visible, escaped, in the badge', async () => {
    const xss = (await get('/v1/badge/xss.svg')).text
    expect(xss).toContain('&lt;script&gt;')
    expect(xss).toContain('&lt;/svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;')
    const quotes = (await get('/v1/badge/quotes.svg')).text
    expect(quotes).toContain('&quot;&#39;&amp;amp;')
    expect(quotes).toContain('&quot; onload=&quot;alert(1)&quot;')
  })
})
