import { mkdirSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core'

/** Where e2e tests save screenshots (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

/** Debian's chromium, headless, with nothing that reaches the network on its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  })
}

/** A fresh page in its own context (own cache, own media emulation). */
export async function newPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, ...options })
  return context.newPage()
}

/** Saves a full-page screenshot as test-artifacts/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true })
  const path = `${ARTIFACTS}${name}.png`
  await page.screenshot({ path, fullPage: true, animations: 'disabled' })
  return path
}

export interface PageHost {
  /** http://127.0.0.1:port/ */
  url: string
  /** Sets the HTML served at `path` (default '/'). */
  set(html: string, path?: string): void
  close(): Promise<void>
}

/**
 * A second origin that serves embedding pages: a plain node:http server on its own port, so the
 * widget runs cross-origin from the Pricewire server, as on a customer's site.
 */
export async function startPageHost(): Promise<PageHost> {
  const pages = new Map<string, string>()
  const server: Server = createServer((req, res) => {
    const body = pages.get(new URL(req.url ?? '/', 'http://x').pathname)
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(body ?? 'not found')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}/`,
    set: (html, path = '/') => void pages.set(path, html),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** An HTML page that loads widget.js from `server` (an origin, no trailing slash) with `body`. */
export function embedPage(server: string, body: string, { lang = 'en', head = '' } = {}): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>Embed test</title>
<script type="module" src="${server}/widget.js"></script>${head}</head><body><main>${body}</main></body></html>`
}
