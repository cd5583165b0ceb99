import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../../server/server.js'
import {
  embedPage,
  launchChromium,
  newPage,
  type PageHost,
  screenshot,
  startPageHost,
} from '../helpers/browser.js'
import { type PushApp, startPushApp } from '../helpers/push-app.js'
import { makeQuote, waitFor } from '../helpers/quotes.js'
import { startTestServer } from '../helpers/server.js'

/** The built widget, embedded cross-origin, against the real server: live data, shared socket, updates. */

let browser: Browser
let host: PageHost
let server: RunningServer
let push: PushApp

beforeAll(async () => {
  ;[browser, host, server, push] = await Promise.all([
    launchChromium(),
    startPageHost(),
    startTestServer({ PRICEWIRE_POLL_MS: '250', LOG_LEVEL: 'silent' }),
    startPushApp({ vars: { LOG_LEVEL: 'silent' } }),
  ])
})

afterAll(async () => {
  await Promise.all([browser?.close(), host?.close(), server?.close(), push?.close()])
})

const ALL = `<pricewire-card asset="talus"></pricewire-card>
<pricewire-card asset="eth" variant="chart"></pricewire-card>
<pricewire-tape assets="btc,eth,pol,talus"></pricewire-tape>
<p>Polygon trades at <pricewire-badge asset="pol" show="volatility,marketcap,volume"></pricewire-badge> today.</p>`

/** Opens the page, collecting the WebSockets it opens and any script errors. */
async function open(html: string, path = '/') {
  host.set(html, path)
  const page = await newPage(browser)
  const sockets: string[] = []
  const errors: string[] = []
  page.on('websocket', (ws) => sockets.push(ws.url()))
  page.on('pageerror', (e) => errors.push(String(e)))
  await page.goto(new URL(path, host.url).href)
  return { page, sockets, errors }
}

const text = (page: Page, selector: string) => page.locator(selector).first().textContent()

describe('widget against a running server (simulated source), embedded from another origin', () => {
  it('renders every element with live data over one shared WebSocket', async () => {
    const { page, sockets, errors } = await open(embedPage(server.url, ALL))
    expect(new URL(host.url).origin).not.toBe(new URL(server.url).origin)
    const price = page.locator('pricewire-card[asset=talus] [part=price]')
    await price.waitFor({ timeout: 15_000 })
    expect(await price.textContent()).toMatch(/^\$0\.0\d{4}/)
    expect(await text(page, 'pricewire-card[asset=talus] [part=name]')).toMatch(/Talus\s+\(US\)/)
    expect(await text(page, 'pricewire-card[asset=talus] [part=change]')).toMatch(/[▲▼]?\s*[+-]?\d+\.\d\d%/)
    await expect
      .poll(() => page.locator('pricewire-card[asset=talus] [part=sparkline] path').last().getAttribute('d'))
      .toMatch(/^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){10,}$/)
    expect(await text(page, 'pricewire-card[asset=talus] [part=card]')).toContain('Simulated')

    // The tape: every asset once in the list, and the loop copies hidden from assistive tech.
    await page.locator('pricewire-tape [part=item]').first().waitFor({ timeout: 15_000 })
    const lists = page.locator('pricewire-tape ul')
    expect(await lists.count()).toBeGreaterThanOrEqual(2)
    expect(await lists.first().getAttribute('aria-hidden')).toBeNull()
    for (let i = 1; i < (await lists.count()); i++)
      expect(await lists.nth(i).getAttribute('aria-hidden')).toBe('true')
    expect(await lists.first().locator('[part=symbol]').allTextContents()).toEqual([
      'BTC',
      'ETH',
      'POL',
      'US',
    ])

    // The badge: one sentence of text.
    await page.locator('pricewire-badge [part=price]').waitFor({ timeout: 15_000 })
    const badge = (await text(page, 'pricewire-badge [part=badge]'))!.replace(/[\s\u2007]+/g, ' ')
    expect(badge).toMatch(
      /^POL \$0\.\d+ · 24h volatility \d+\.\d% · Market cap \S+ · Vol\. 24h \$[\d.]+[KMB]/,
    )

    // The chart variant draws the 24h series.
    await expect
      .poll(
        async () =>
          (await page.locator('pricewire-card[variant=chart] [part=chart] path').first().getAttribute('d'))
            ?.length ?? 0,
      )
      .toBeGreaterThan(200)

    expect(sockets).toEqual([`${server.url.replace('http', 'ws')}/v1/stream`])
    expect(errors).toEqual([])
    await screenshot(page, 'embed-cross-origin')
    await page.context().close()
  })

  it('shows prices in the locale asked for, or the page language', async () => {
    const { page } = await open(
      embedPage(
        server.url,
        `<pricewire-card asset="btc" locale="de-DE"></pricewire-card><pricewire-badge asset="btc"></pricewire-badge>`,
        { lang: 'fr-FR' },
      ),
      '/locale',
    )
    const de = page.locator('pricewire-card [part=price]')
    await de.waitFor({ timeout: 15_000 })
    expect(await de.textContent()).toMatch(/^\d{2}\.\d{3},\d\d\s€?\$/)
    const fr = page.locator('pricewire-badge [part=price]')
    await fr.waitFor({ timeout: 15_000 })
    expect(await fr.textContent()).toMatch(/^\d{2}\s\d{3},\d\d\s\$/)
    await page.context().close()
  })

  it('says so when an asset is unknown, without breaking the others', async () => {
    const { page } = await open(
      embedPage(
        server.url,
        `<pricewire-card asset="nope"></pricewire-card><pricewire-card asset="pol"></pricewire-card>`,
      ),
      '/unknown',
    )
    await expect
      .poll(() => text(page, 'pricewire-card[asset=nope] [part=card]'), { timeout: 15_000 })
      .toMatch(/Unknown asset|unknown/i)
    await page.locator('pricewire-card[asset=pol] [part=price]').waitFor({ timeout: 15_000 })
    await page.context().close()
  })

  it('has no layout shift from skeleton to live data (CLS 0)', async () => {
    const head = `<script>
      window.__cls = 0;
      new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__cls += e.value })
        .observe({ type: 'layout-shift', buffered: true });
    </script>`
    // The embed as WIDGET.md gives it: blocking="render" lets the elements reserve their size in the first paint.
    const html = embedPage(server.url, `<h1>Prices</h1>${ALL}<p>Text after the widgets.</p>`, {
      head,
    }).replace('></script>', ' blocking="render"></script>')
    const { page } = await open(html, '/cls')
    await page.locator('pricewire-tape [part=item]').first().waitFor({ timeout: 15_000 })
    await page.locator('pricewire-badge [part=price]').waitFor({ timeout: 15_000 })
    await page.locator('pricewire-card[asset=talus] [part=price]').waitFor({ timeout: 15_000 })
    // A few live updates arrive meanwhile (the simulated source ticks every 250 ms).
    await page.waitForTimeout(1_500)
    expect(await page.evaluate(() => (window as unknown as { __cls: number }).__cls)).toBe(0)
    await page.context().close()
  })
})

describe('delivery', () => {
  it('serves widget.js to any origin, briefly cached, and an immutable content-hashed copy', async () => {
    const origin = { origin: 'https://blog.example' }
    const entry = await fetch(`${server.url}/widget.js`, { headers: origin })
    expect(entry.status).toBe(200)
    expect(entry.headers.get('content-type')).toMatch(/^text\/javascript/)
    expect(entry.headers.get('access-control-allow-origin')).toBe('*')
    expect(entry.headers.get('cache-control')).toMatch(/max-age=300\b/)
    const body = await entry.text()
    expect(body).toContain('pricewire-card')
    expect(body).not.toMatch(/from\s*["']zod["']|ZodError/)
    const etag = entry.headers.get('etag')!
    expect((await fetch(`${server.url}/widget.js`, { headers: { 'if-none-match': etag } })).status).toBe(304)

    const manifest = (await (await fetch(`${server.url}/manifest.json`)).json()) as Record<string, string>
    expect(manifest['widget.js']).toMatch(/^widget\.[0-9a-f]{10}\.js$/)
    const hashed = await fetch(`${server.url}/${manifest['widget.js']}`, { headers: origin })
    expect(hashed.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(hashed.headers.get('access-control-allow-origin')).toBe('*')
    expect(await hashed.text()).toBe(body)
    expect((await fetch(`${server.url}/widget.0123456789.js`)).status).toBe(404)

    const elements = await fetch(`${server.url}/elements.js`)
    const code = await elements.text()
    expect(code).toMatch(/export\s*\{/)
    expect(code).not.toContain('customElements.define')

    const demo = await fetch(`${server.url}/`)
    expect(await demo.text()).toContain(`src="${server.url}/widget.js"`)
  })

  it('the bundler entry exports the classes for a page to define under its own names', async () => {
    host.set(
      `<!doctype html><html lang="en"><head><title>Own names</title><script type="module">
        import { PricewireCard } from '${server.url}/elements.js'
        customElements.define('my-price', PricewireCard)
      </script></head><body><my-price asset="eth"></my-price></body></html>`,
      '/own-names',
    )
    const page = await newPage(browser)
    await page.goto(`${host.url}own-names`)
    await expect
      .poll(() => page.locator('my-price [part=price]').textContent(), { timeout: 15_000 })
      .toMatch(/^\$3,\d{3}\.\d\d/)
    expect(await page.evaluate(() => customElements.get('pricewire-card'))).toBeUndefined()
    await page.context().close()
  })
})

describe('widget against a server whose quotes the test publishes', () => {
  it('a pushed update changes the DOM, with a flash in the direction of the move', async () => {
    const at = Date.now()
    await push.publish([
      makeQuote('pol', {
        name: 'Polygon',
        symbol: 'POL',
        price: 0.25,
        change24h: 1.5,
        updatedAt: at,
        seq: 1,
      }),
    ])
    const { page } = await open(
      embedPage(
        push.httpUrl,
        `<pricewire-card asset="pol"></pricewire-card><pricewire-badge asset="pol" show="change"></pricewire-badge>`,
      ),
      '/push',
    )
    const price = page.locator('pricewire-card [part=price]')
    await expect.poll(() => price.textContent(), { timeout: 15_000 }).toMatch(/^\$0\.25\b/)
    expect(await text(page, 'pricewire-card [part=change]')).toMatch(/▲\s*\+1\.50%/)

    await push.publish([
      makeQuote('pol', {
        name: 'Polygon',
        symbol: 'POL',
        price: 0.2391,
        change24h: -2.25,
        updatedAt: at + 1000,
        seq: 2,
      }),
    ])
    await expect.poll(() => price.textContent(), { timeout: 10_000 }).toMatch(/^\$0\.2391/)
    expect(await text(page, 'pricewire-card [part=change]')).toMatch(/▼\s*-2\.25%/)
    expect(await text(page, 'pricewire-badge [part=price]')).toMatch(/^\$0\.2391/)
    expect(await price.getAttribute('class')).toContain('fd')
    // Red for down, and the arrow is there too (never colour alone).
    const colors = await page.evaluate(() => {
      const root = document.querySelector('pricewire-card')!.shadowRoot!
      return getComputedStyle(root.querySelector('[part=change]')!).color
    })
    expect(colors).toBe('rgb(185, 28, 28)')

    // An older quote (lower seq, older time) never replaces a newer one.
    await push.publish([
      makeQuote('pol', { name: 'Polygon', symbol: 'POL', price: 0.3, updatedAt: at, seq: 1 }),
    ])
    await push.publish([
      makeQuote('pol', {
        name: 'Polygon',
        symbol: 'POL',
        price: 0.2402,
        change24h: -2,
        updatedAt: at + 2000,
        seq: 3,
      }),
    ])
    await expect.poll(() => price.textContent(), { timeout: 10_000 }).toMatch(/^\$0\.2402/)
    expect(await price.getAttribute('class')).toContain('fu')
    await page.context().close()
  })

  it('does not flash under prefers-reduced-motion', async () => {
    const at = Date.now()
    const eth = (price: number, seq: number) =>
      makeQuote('eth', { name: 'Ethereum', symbol: 'ETH', price, updatedAt: at + seq, seq })
    await push.publish([eth(3000, 1)])
    host.set(embedPage(push.httpUrl, '<pricewire-card asset="eth"></pricewire-card>'), '/still')
    const page = await newPage(browser, { reducedMotion: 'reduce' })
    await page.goto(`${host.url}still`)
    const price = page.locator('pricewire-card [part=price]')
    await expect.poll(() => price.textContent(), { timeout: 15_000 }).toMatch(/^\$3,000\.00/)
    await push.publish([eth(3100, 2)])
    await expect.poll(() => price.textContent(), { timeout: 10_000 }).toMatch(/^\$3,100\.00/)
    expect(await price.getAttribute('class')).not.toMatch(/\bf[ud]\b/)
    await page.context().close()
  })

  it('marks a stale quote and shows prices for an element added later from the shared cache', async () => {
    await push.publish([
      makeQuote('sol', {
        name: 'Solana',
        symbol: 'SOL',
        price: 180.5,
        stale: true,
        updatedAt: Date.now(),
        seq: 1,
      }),
    ])
    const { page, sockets } = await open(
      embedPage(push.httpUrl, `<pricewire-card asset="sol"></pricewire-card>`),
      '/stale',
    )
    await expect.poll(() => text(page, 'pricewire-card [part=card]'), { timeout: 15_000 }).toContain('Stale')
    expect(await text(page, 'pricewire-card [part=price]')).toMatch(/^\$180\.50/)
    await page.evaluate(() => {
      const badge = document.createElement('pricewire-badge')
      badge.setAttribute('asset', 'sol')
      document.body.append(badge)
    })
    await expect
      .poll(() => text(page, 'pricewire-badge [part=price]'), { timeout: 5_000 })
      .toMatch(/^\$180\.50/)
    expect(sockets).toHaveLength(1)
    await page.context().close()
  })
})

void waitFor
