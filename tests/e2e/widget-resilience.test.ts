import type { Browser, Page, WebSocket } from 'playwright-core'
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
import { freePort } from '../helpers/free-port.js'
import { startTestServer } from '../helpers/server.js'

/** The shared stream when things go wrong: a server restart, a blocked WebSocket, a hidden tab. */

let browser: Browser
let host: PageHost

beforeAll(async () => {
  ;[browser, host] = await Promise.all([launchChromium(), startPageHost()])
})

afterAll(async () => {
  await Promise.all([browser?.close(), host?.close()])
})

const VARS = { PRICEWIRE_POLL_MS: '250', LOG_LEVEL: 'silent' }
const BODY = `<pricewire-card asset="btc"></pricewire-card><pricewire-tape assets="btc,eth"></pricewire-tape>`
const cardText = (page: Page) => page.locator('pricewire-card [part=card]').textContent()
const priceText = (page: Page) => page.locator('pricewire-card [part=price]').textContent()

async function open(server: string, path: string, before?: (page: Page) => Promise<void>) {
  host.set(embedPage(server, BODY), path)
  const page = await newPage(browser)
  const sockets: WebSocket[] = []
  page.on('websocket', (ws) => sockets.push(ws))
  await before?.(page)
  await page.goto(new URL(path, host.url).href)
  await page.locator('pricewire-card [part=price]').waitFor({ timeout: 15_000 })
  return { page, sockets }
}

describe('widget resilience', () => {
  it('reconnects by itself after the server restarts, marking prices stale meanwhile', async () => {
    const port = await freePort()
    let server: RunningServer = await startTestServer({ ...VARS, PORT: String(port) })
    try {
      const { page, sockets } = await open(server.url, '/restart')
      expect(sockets).toHaveLength(1)
      await server.close()
      // Down: the REST fallback fails too, so the shown prices are marked stale.
      await expect.poll(() => cardText(page), { timeout: 15_000 }).toContain('Stale')
      await screenshot(page, 'server-down')
      server = await startTestServer({ ...VARS, PORT: String(port) })
      await expect.poll(() => cardText(page), { timeout: 30_000 }).not.toContain('Stale')
      // Attempts made while the server was down failed and closed; exactly one socket is open now.
      const live = sockets.filter((ws) => !ws.isClosed())
      expect(live).toHaveLength(1)
      expect(sockets.length).toBeGreaterThanOrEqual(2)
      const fresh = live[0]!
      const frames: string[] = []
      fresh.on('framereceived', (f) => frames.push(String(f.payload)))
      // Live again on the new socket: quotes keep arriving and the price keeps moving.
      const before = await priceText(page)
      await expect.poll(() => priceText(page), { timeout: 15_000 }).not.toBe(before)
      await expect
        .poll(() => frames.some((f) => f.startsWith('{"type":"quotes"')), { timeout: 5_000 })
        .toBe(true)
      expect(fresh.isClosed()).toBe(false)
      await page.context().close()
    } finally {
      await server.close()
    }
  })

  it('shows an error in the reserved space while the server is unreachable, and recovers by itself', async () => {
    const port = await freePort()
    const origin = `http://127.0.0.1:${port}`
    // widget.js comes from one server; the prices are asked of another (server=) that is not up yet.
    const scriptServer = await startTestServer(VARS)
    let server: RunningServer | undefined
    try {
      host.set(
        embedPage(scriptServer.url, `<pricewire-card asset="btc" server="${origin}"></pricewire-card>`),
        '/unreachable',
      )
      const page = await newPage(browser)
      await page.goto(`${host.url}unreachable`)
      const card = page.locator('pricewire-card [part=card]')
      const height = (await card.boundingBox())!.height
      await expect
        .poll(() => card.textContent(), { timeout: 15_000 })
        .toContain('Prices unavailable. Retrying')
      expect((await card.boundingBox())!.height).toBe(height)
      await screenshot(page, 'server-unreachable')
      server = await startTestServer({ ...VARS, PORT: String(port) })
      await expect
        .poll(() => page.locator('pricewire-card [part=price]').count(), { timeout: 30_000 })
        .toBe(1)
      expect((await card.boundingBox())!.height).toBe(height)
      await page.context().close()
    } finally {
      await Promise.all([scriptServer.close(), server?.close()])
    }
  })

  it('falls back to REST polling when the WebSocket is blocked', async () => {
    const server = await startTestServer(VARS)
    try {
      const quoteRequests: string[] = []
      let attempts = 0
      const { page } = await open(server.url, '/blocked', async (page) => {
        // Every WebSocket to the server is refused before it reaches it (as by a proxy that blocks upgrades).
        await page.routeWebSocket(/\/v1\/stream$/, (ws) => {
          attempts++
          ws.close({ code: 1011, reason: 'blocked' })
        })
        page.on('request', (r) => {
          if (r.url().includes('/v1/quotes')) quoteRequests.push(r.url())
        })
      })
      expect(quoteRequests[0]).toMatch(/\/v1\/quotes\?assets=btc,eth$/)
      expect(attempts).toBeGreaterThanOrEqual(1)
      expect(await cardText(page)).not.toContain('Stale')
      expect(await page.locator('pricewire-tape [part=item]').count()).toBeGreaterThanOrEqual(2)
      // Polling keeps the price moving.
      const before = await priceText(page)
      await expect.poll(() => priceText(page), { timeout: 20_000 }).not.toBe(before)
      expect(quoteRequests.length).toBeGreaterThanOrEqual(2)
      await page.context().close()
    } finally {
      await server.close()
    }
  })

  it('closes the socket while the page is hidden and catches up when it is visible again', async () => {
    const server = await startTestServer(VARS)
    try {
      const { page, sockets } = await open(server.url, '/hidden')
      const setHidden = (hidden: boolean) =>
        page.evaluate((hidden) => {
          Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden })
          document.dispatchEvent(new Event('visibilitychange'))
        }, hidden)
      await setHidden(true)
      await expect.poll(() => sockets[0]!.isClosed(), { timeout: 5_000 }).toBe(true)
      const hiddenPrice = await priceText(page)
      let requests = 0
      page.on('request', () => requests++)
      await page.waitForTimeout(1_500)
      expect(requests).toBe(0)
      expect(await priceText(page)).toBe(hiddenPrice)
      await setHidden(false)
      await expect.poll(() => sockets.length, { timeout: 5_000 }).toBe(2)
      await expect.poll(() => priceText(page), { timeout: 10_000 }).not.toBe(hiddenPrice)
      await page.context().close()
    } finally {
      await server.close()
    }
  })
})
