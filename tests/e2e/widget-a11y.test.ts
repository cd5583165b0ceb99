import { AxeBuilder } from '@axe-core/playwright'
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
import { startTestServer } from '../helpers/server.js'

/** Accessibility (axe-core, in light and dark), motion, keyboard and pointer use, and demo screenshots. */

let browser: Browser
let host: PageHost
let server: RunningServer

beforeAll(async () => {
  ;[browser, host, server] = await Promise.all([
    launchChromium(),
    startPageHost(),
    startTestServer({ PRICEWIRE_POLL_MS: '500', LOG_LEVEL: 'silent' }),
  ])
})

afterAll(async () => {
  await Promise.all([browser?.close(), host?.close(), server?.close()])
})

/** Waits until every element on the page shows data. */
async function loaded(page: Page) {
  await expect
    .poll(
      () =>
        page.evaluate(() =>
          [...document.querySelectorAll('pricewire-card, pricewire-tape, pricewire-badge')].every((el) =>
            el.shadowRoot?.querySelector('[part=price]'),
          ),
        ),
      { timeout: 20_000 },
    )
    .toBe(true)
}

const violations = async (page: Page) => {
  const result = await new AxeBuilder({ page }).analyze()
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

const AUTO = `<h1>Prices</h1>
<pricewire-card asset="talus"></pricewire-card>
<pricewire-card asset="eth" variant="chart"></pricewire-card>
<pricewire-tape assets="btc,eth,pol,talus"></pricewire-tape>
<p>Polygon trades at <pricewire-badge asset="pol" show="change,volatility,marketcap,volume"></pricewire-badge> today.</p>`

describe('demo page and themes', () => {
  for (const colorScheme of ['light', 'dark'] as const) {
    it(`the demo page has no axe violations, prefers-color-scheme: ${colorScheme}`, async () => {
      const page = await newPage(browser, { colorScheme })
      await page.goto(`${server.url}/`)
      await loaded(page)
      expect(await violations(page)).toEqual([])
      // Nothing spills out of a card: the price row fits its width.
      const overflowing = await page.evaluate(() =>
        [...document.querySelectorAll('pricewire-card')]
          .map((el) => el.shadowRoot!.querySelector<HTMLElement>('.pr')!)
          .filter((row) => row.scrollWidth > row.clientWidth)
          .map((row) => row.textContent),
      )
      expect(overflowing).toEqual([])
      await screenshot(page, `demo-${colorScheme}`)
      await page.context().close()
    })

    it(`theme="auto" follows prefers-color-scheme: ${colorScheme}, with no axe violations`, async () => {
      const bg = colorScheme === 'dark' ? 'background:#030712;color:#f9fafb' : ''
      host.set(embedPage(server.url, AUTO, { head: `<style>body{${bg}}</style>` }), `/auto-${colorScheme}`)
      const page = await newPage(browser, { colorScheme })
      await page.goto(`${host.url}auto-${colorScheme}`)
      await loaded(page)
      const cardBg = await page.evaluate(
        () =>
          getComputedStyle(document.querySelector('pricewire-card')!.shadowRoot!.querySelector('.card')!)
            .backgroundColor,
      )
      expect(cardBg).toBe(colorScheme === 'dark' ? 'rgb(17, 24, 39)' : 'rgb(255, 255, 255)')
      expect(await violations(page)).toEqual([])
      await screenshot(page, `auto-${colorScheme}`)
      await page.context().close()
    })
  }

  it('CSS custom properties and ::part restyle the elements', async () => {
    const head = `<style>
      pricewire-card { --pricewire-bg: rgb(1, 2, 3); --pricewire-fg: rgb(250, 250, 250); }
      pricewire-card::part(price) { font-weight: 800; }
    </style>`
    host.set(embedPage(server.url, '<pricewire-card asset="btc"></pricewire-card>', { head }), '/theme')
    const page = await newPage(browser)
    await page.goto(`${host.url}theme`)
    await loaded(page)
    const styles = await page.evaluate(() => {
      const root = document.querySelector('pricewire-card')!.shadowRoot!
      return [
        getComputedStyle(root.querySelector('.card')!).backgroundColor,
        getComputedStyle(root.querySelector('[part=price]')!).fontWeight,
      ]
    })
    expect(styles).toEqual(['rgb(1, 2, 3)', '800'])
    await page.context().close()
  })
})

describe('the tape', () => {
  const TAPE = '<pricewire-tape assets="btc,eth,sol,pol,talus"></pricewire-tape><p><a href="#">after</a></p>'
  const track = (page: Page) =>
    page.evaluate(() => {
      const root = document.querySelector('pricewire-tape')!.shadowRoot!
      const tr = getComputedStyle(root.querySelector('.tr')!)
      const vp = root.querySelector<HTMLElement>('.vp')!
      return {
        name: tr.animationName,
        state: tr.animationPlayState,
        copiesShown: [...root.querySelectorAll('ul[aria-hidden=true]')].some(
          (ul) => getComputedStyle(ul).display !== 'none',
        ),
        scrollable: vp.scrollWidth > vp.clientWidth && getComputedStyle(vp).overflowX === 'auto',
        // The ▲/▼ of the visible list (aria-hidden spans themselves) must stay shown.
        arrowsShown: [...root.querySelectorAll('ul:not([aria-hidden]) .chg > span')].every(
          (s) => getComputedStyle(s).display !== 'none' && s.textContent !== '',
        ),
      }
    })

  it('scrolls, and pauses on hover and on keyboard focus', async () => {
    host.set(embedPage(server.url, TAPE), '/tape')
    const page = await newPage(browser, { viewport: { width: 600, height: 400 } })
    await page.goto(`${host.url}tape`)
    await loaded(page)
    expect(await track(page)).toMatchObject({
      name: 'scroll',
      state: 'running',
      copiesShown: true,
      arrowsShown: true,
    })
    const x0 = await page.evaluate(
      () =>
        document.querySelector('pricewire-tape')!.shadowRoot!.querySelector('.tr')!.getBoundingClientRect().x,
    )
    await page.waitForTimeout(500)
    const x1 = await page.evaluate(
      () =>
        document.querySelector('pricewire-tape')!.shadowRoot!.querySelector('.tr')!.getBoundingClientRect().x,
    )
    expect(x1).toBeLessThan(x0)
    await page.locator('pricewire-tape .vp').hover()
    expect((await track(page)).state).toBe('paused')
    await page.mouse.move(300, 380)
    expect((await track(page)).state).toBe('running')
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('PRICEWIRE-TAPE')
    expect((await track(page)).state).toBe('paused')
    await page.context().close()
  })

  it('stands still and scrolls by hand under prefers-reduced-motion, the loop copies gone', async () => {
    host.set(embedPage(server.url, TAPE), '/tape-still')
    const page = await newPage(browser, { viewport: { width: 600, height: 400 }, reducedMotion: 'reduce' })
    await page.goto(`${host.url}tape-still`)
    await loaded(page)
    expect(await track(page)).toMatchObject({
      name: 'none',
      copiesShown: false,
      scrollable: true,
      arrowsShown: true,
    })
    await screenshot(page, 'tape-reduced-motion')
    await page.context().close()
  })
})

describe('the chart card', () => {
  it('shows a crosshair and tooltip under the pointer and the arrow keys, and switches to 7 days', async () => {
    host.set(embedPage(server.url, '<pricewire-card asset="btc" variant="chart"></pricewire-card>'), '/chart')
    const page = await newPage(browser)
    const history: string[] = []
    page.on('request', (r) => {
      if (r.url().includes('/v1/history/')) history.push(r.url())
    })
    await page.goto(`${host.url}chart`)
    await loaded(page)
    const chart = page.locator('pricewire-card [part=chart]')
    await expect
      .poll(async () => (await chart.locator('path').first().getAttribute('d'))?.length ?? 0)
      .toBeGreaterThan(200)
    const box = (await chart.boundingBox())!
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2)
    const tip = page.locator('pricewire-card .tip')
    await expect.poll(() => tip.textContent()).toMatch(/^\$9\d,\d{3}\.\d\d · \d\d:\d\d( [AP]M)?$/)
    await screenshot(page, 'chart-crosshair')
    await page.mouse.move(box.x + box.width / 2, box.y + box.height + 40)
    await expect.poll(() => tip.count()).toBe(0)

    await chart.focus()
    await page.keyboard.press('ArrowLeft')
    await expect.poll(() => tip.count()).toBe(1)
    await page.keyboard.press('Escape')
    await expect.poll(() => tip.count()).toBe(0)

    const week = page.locator('pricewire-card [part=toggle]', { hasText: '7d' })
    await week.click()
    expect(await week.getAttribute('aria-pressed')).toBe('true')
    await expect.poll(() => history.some((u) => u.endsWith('window=7d')), { timeout: 10_000 }).toBe(true)
    await expect.poll(async () => (await chart.getAttribute('aria-label')) ?? '').toContain('last 7d')
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2)
    await expect.poll(() => tip.textContent()).toMatch(/^\$9\d,\d{3}\.\d\d · \w{3},? \d\d:\d\d( [AP]M)?$/)
    await page.context().close()
  })
})
