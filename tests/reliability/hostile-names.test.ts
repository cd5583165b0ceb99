import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { QuotesResponse } from '../../shared/api.js'
import { embedPage, launchChromium, newPage, type PageHost, startPageHost } from '../helpers/browser.js'
import { type PushApp, startPushApp } from '../helpers/push-app.js'
import { makeQuote, waitFor } from '../helpers/quotes.js'
import { printFigure } from './figures.js'

/**
 * Scenario 6: registry names that try to become markup or to reorder what a reader sees, through
 * the widget in real Chromium (REST and the badge are covered by
 * tests/integration/api-hostile-registry.test.ts; here one figure for all three).
 */

const HOSTILE = [
  { id: 'xss', symbol: '<script>', name: '</svg><script>window.__pwned=1</script>' },
  { id: 'img', symbol: '<img>', name: '<img src=x onerror="window.__pwned=2">' },
  { id: 'quotes', symbol: `"'&amp;`, name: `" onmouseover="window.__pwned=3" x='` },
  { id: 'rtl', symbol: 'US\u202e', name: '\u202eNAME gnp.exe' },
]

let dir: string
let s: PushApp
let browser: Browser
let host: PageHost

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pricewire-hostile-names-'))
  const file = join(dir, 'assets.json')
  writeFileSync(file, JSON.stringify({ assets: HOSTILE.map((a) => ({ ...a, markets: [] })) }))
  ;[s, browser, host] = await Promise.all([
    startPushApp({
      vars: { PRICEWIRE_ASSETS_FILE: file, PRICEWIRE_RATE_LIMIT: '0', PRICEWIRE_STALE_MS: '600000' },
    }),
    launchChromium(),
    startPageHost(),
  ])
  await s.publish(
    HOSTILE.map((a, i) =>
      makeQuote(a.id, {
        symbol: a.symbol,
        name: a.name,
        price: 1234.5 + i,
        seq: 1,
        change24h: 2,
        volume24h: 1e6,
      }),
    ),
  )
  await waitFor(() => HOSTILE.every((a) => s.engine.latest(a.id)))
}, 60_000)

afterAll(async () => {
  await Promise.all([browser?.close(), host?.close(), s?.close()])
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** Every element inside the widgets' shadow roots, by tag, and any inline event handler attribute. */
function shadowInventory(page: Page) {
  return page.evaluate(() => {
    const tags: Record<string, number> = {}
    const handlers: string[] = []
    const walk = (root: ParentNode) => {
      for (const el of root.querySelectorAll('*')) {
        tags[el.localName] = (tags[el.localName] ?? 0) + 1
        for (const attr of el.getAttributeNames())
          if (/^on/i.test(attr)) handlers.push(`${el.localName}[${attr}]`)
        if (el.shadowRoot) walk(el.shadowRoot)
      }
    }
    walk(document)
    return { tags, handlers, pwned: (window as unknown as { __pwned?: number }).__pwned ?? 0 }
  })
}

/**
 * Whether the price is drawn in reading order: the x position of each of its characters, left to
 * right, must follow the text. A bidi override leaking from the name or symbol reverses it.
 */
function priceDrawnInOrder(page: Page, selector: string) {
  return page.evaluate((sel) => {
    const [hostSel, partSel] = sel.split(' >>> ')
    const el = document.querySelector(hostSel!)?.shadowRoot?.querySelector(partSel!)
    // Lit leaves comment markers around bindings: the first non-empty text node is the price.
    const walker = el ? document.createTreeWalker(el, NodeFilter.SHOW_TEXT) : undefined
    let node: Node | null | undefined = walker?.nextNode()
    while (node && !node.textContent?.trim()) node = walker!.nextNode()
    if (!node) return { text: el?.textContent ?? null, xs: [], inOrder: false }
    const text = node.textContent ?? ''
    const xs: number[] = []
    for (let i = 0; i < text.length; i++) {
      if (/\s/.test(text[i]!)) continue
      const range = document.createRange()
      range.setStart(node, i)
      range.setEnd(node, i + 1)
      xs.push(range.getBoundingClientRect().left)
    }
    return { text, xs, inOrder: xs.every((x, i) => i === 0 || x > xs[i - 1]!) }
  }, selector)
}

describe('scenario 6: hostile names through REST, the badge and the widget', { timeout: 90_000 }, () => {
  it('REST and the SVG badge keep them inert text', async () => {
    const res = await fetch(`${s.httpUrl}/v1/quotes?assets=${HOSTILE.map((a) => a.id).join(',')}`)
    const text = await res.text()
    const names = QuotesResponse.parse(JSON.parse(text)).data.map((q) => q.name)
    let badgeTags = 0
    for (const a of HOSTILE) {
      const svg = await (await fetch(`${s.httpUrl}/v1/badge/${a.id}.svg`)).text()
      expect(svg).not.toMatch(/<script|<img|\son\w+\s*=\s*["']|\u202e/i)
      badgeTags += (svg.match(/<script|<img/gi) ?? []).length
    }
    printFigure(
      'hostile-names',
      `REST: ${names.length} hostile names returned intact as JSON strings, raw '<' in body: ${/</.test(text)}; badge: ${badgeTags} injected tags`,
    )
    expect(names).toEqual(HOSTILE.map((a) => a.name))
    expect(text).not.toMatch(/[<>]/)
  })

  it('the widget shows them as text: no script runs, no element or handler is injected', async () => {
    const body = HOSTILE.map(
      (a) =>
        `<pricewire-card asset="${a.id}"></pricewire-card><pricewire-badge asset="${a.id}"></pricewire-badge>`,
    ).join('')
    host.set(
      embedPage(
        new URL(s.httpUrl).origin,
        `${body}<pricewire-tape assets="${HOSTILE.map((a) => a.id).join(',')}"></pricewire-tape>`,
      ),
    )
    const page = await newPage(browser)
    const dialogs: string[] = []
    const errors: string[] = []
    page.on('dialog', (d) => {
      dialogs.push(d.message())
      void d.dismiss()
    })
    page.on('pageerror', (e) => errors.push(String(e)))
    await page.goto(host.url)
    for (const a of HOSTILE)
      await page.locator(`pricewire-card[asset=${a.id}] [part=price]`).waitFor({ timeout: 15_000 })
    await page.locator('pricewire-tape [part=item]').first().waitFor({ timeout: 15_000 })
    await page.mouse.move(10, 10)
    for (const a of HOSTILE) await page.locator(`pricewire-card[asset=${a.id}] [part=name]`).hover()

    const shown = await Promise.all(
      HOSTILE.map(async (a) => ({
        name: await page.locator(`pricewire-card[asset=${a.id}] [part=name]`).first().textContent(),
        symbol: await page.locator(`pricewire-card[asset=${a.id}] [part=symbol]`).first().textContent(),
      })),
    )
    const inventory = await shadowInventory(page)
    const injected = (inventory.tags.script ?? 0) - 1 + (inventory.tags.img ?? 0)
    printFigure(
      'hostile-names',
      `widget in Chromium: ${HOSTILE.length} hostile assets in card, badge and tape: ${injected} injected elements, ` +
        `${inventory.handlers.length} event-handler attributes, ${dialogs.length} dialogs, script ran: ${inventory.pwned !== 0}, page errors ${errors.length}`,
    )
    for (let i = 0; i < HOSTILE.length; i++) {
      expect(shown[i]!.name).toContain(HOSTILE[i]!.name)
      expect(shown[i]!.symbol).toContain(HOSTILE[i]!.symbol)
    }
    expect(injected).toBe(0) // the page's own widget.js script tag only
    expect(inventory.handlers).toEqual([])
    expect(inventory.pwned).toBe(0)
    expect(dialogs).toEqual([])
    expect(errors).toEqual([])
    await page.context().close()
  })

  it('an RTL override in a name or symbol does not reverse the price drawn beside it', async () => {
    host.set(
      embedPage(
        new URL(s.httpUrl).origin,
        '<pricewire-card asset="rtl"></pricewire-card><pricewire-tape assets="rtl"></pricewire-tape><pricewire-badge asset="rtl"></pricewire-badge>',
      ),
      '/rtl',
    )
    const page = await newPage(browser)
    await page.goto(new URL('/rtl', host.url).href)
    await page.locator('pricewire-card [part=price]').waitFor({ timeout: 15_000 })
    await page.locator('pricewire-tape [part=item]').first().waitFor({ timeout: 15_000 })
    await page.locator('pricewire-badge [part=price]').waitFor({ timeout: 15_000 })
    const card = await priceDrawnInOrder(page, 'pricewire-card >>> [part=price]')
    const tape = await priceDrawnInOrder(page, 'pricewire-tape >>> [part=price]')
    const badge = await priceDrawnInOrder(page, 'pricewire-badge >>> [part=price]')
    printFigure(
      'hostile-names',
      `RTL override (U+202E) in name and symbol: price drawn in reading order — card ${card.inOrder}, tape ${tape.inOrder}, badge ${badge.inOrder} (${badge.text} at x ${badge.xs.map(Math.round).join(',')})`,
    )
    // The badge is inline text: a symbol ending in U+202E (not isolated) drew "$1,237.50" as "05.732,1$".
    expect(card.inOrder).toBe(true)
    expect(tape.inOrder).toBe(true)
    expect(badge.inOrder).toBe(true)
    await page.context().close()
  })
})
