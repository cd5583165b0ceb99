import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { embedPage, launchChromium, startPageHost } from '../tests/helpers/browser.js'
import { ROOT } from './lib/children.js'
import type { BenchContext } from './lib/context.js'
import { NotReady } from './lib/context.js'
import { startPricewire } from './lib/pricewire.js'
import type { Figure } from './lib/report.js'
import { median, percentile } from './lib/stats.js'

/**
 * The widget: gzip size of dist/widget.js against its 12 KB budget, and in headless Chromium the
 * time from navigation start to the first price painted (a cold page load each time: new browser
 * context, empty cache) on a page of another origin embedding a card, a tape and a badge from a
 * real server (simulated source, own process), plus the page's cumulative layout shift.
 */

const BUDGET = 12 * 1024

interface Load {
  firstPriceMs: number
  allPricesMs: number
  cls: number
  scriptLoadedMs: number
  socketOpenMs: number
  snapshotMs: number
}

interface Probe {
  first: number
  all: number
  cls: number
  wsNew: number
  wsOpen: number
  wsFrame: number
  script: number
}

/** Runs in the page: first rAF after the card shows a price ≈ its paint; CLS from layout-shift entries. */
const PROBE = `<script>
  window.__bench = { cls: 0 };
  // Timestamps of the shared socket (wrapped before widget.js runs): where the time goes.
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...a) {
      super(...a);
      window.__bench.wsNew ??= performance.now();
      this.addEventListener('open', () => { window.__bench.wsOpen ??= performance.now() });
      this.addEventListener('message', () => { window.__bench.wsFrame ??= performance.now() });
    }
  };
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__bench.cls += e.value })
    .observe({ type: 'layout-shift', buffered: true });
  const has = (sel) => [...document.querySelectorAll(sel)].every((el) => el.shadowRoot?.querySelector('[part=price]'));
  const frame = (t) => {
    if (!window.__bench.first && has('pricewire-card')) window.__bench.first = performance.now();
    if (has('pricewire-card, pricewire-tape, pricewire-badge')) window.__bench.all = performance.now();
    else requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
</script>`

const BODY = `<h1>Prices</h1>
<pricewire-card asset="talus"></pricewire-card>
<pricewire-tape assets="btc,eth,pol,talus"></pricewire-tape>
<p>Polygon trades at <pricewire-badge asset="pol" show="volatility,marketcap,volume"></pricewire-badge> today.</p>`

const SERVER_ENV = { PRICEWIRE_SOURCES: 'simulated', PRICEWIRE_POLL_MS: '1000' }

/** The server in its own process; in quick mode in this one (no second start-up to wait for). */
async function startServer(quick: boolean): Promise<{ url: string; entry: string; stop(): Promise<void> }> {
  if (!quick) return startPricewire({ name: 'pricewire (widget)', env: SERVER_ENV })
  const { startTestServer } = await import('../tests/helpers/server.js')
  const server = await startTestServer({ ...SERVER_ENV, LOG_LEVEL: 'silent' })
  return { url: server.url, entry: 'in-process', stop: () => server.close() }
}

export async function widgetBench(ctx: BenchContext): Promise<{ figures: Figure[]; details: unknown }> {
  const file = join(ROOT, 'dist/widget.js')
  if (!existsSync(file)) throw new NotReady('dist/widget.js is missing: run `npm run build:widget`')
  if (!existsSync('/usr/bin/chromium') && !process.env.CHROMIUM_PATH)
    throw new NotReady('no Chromium at /usr/bin/chromium (set CHROMIUM_PATH)')
  const gzip = gzipSync(readFileSync(file), { level: 9 }).length
  const elementsFile = join(ROOT, 'dist/elements.js')
  const elementsGzip = existsSync(elementsFile)
    ? gzipSync(readFileSync(elementsFile), { level: 9 }).length
    : null
  ctx.log(`widget.js: ${gzip} B gzip (budget ${BUDGET} B)`)

  const loadsWanted = ctx.quick ? 2 : 15
  const [server, host, browser] = await Promise.all([
    startServer(ctx.quick),
    startPageHost(),
    launchChromium(),
  ])
  const loads: Load[] = []
  try {
    // The embed as WIDGET.md gives it (blocking="render": the elements reserve their size in the first paint).
    const page = embedPage(server.url, BODY, { head: PROBE }).replace(
      '></script>',
      ' blocking="render"></script>',
    )
    host.set(page)
    // One unmeasured load warms the server (the first history read, JIT) as a running service would be.
    for (let i = 0; i <= loadsWanted; i++) {
      const context = await browser.newContext({ viewport: { width: 1100, height: 800 } })
      const tab = await context.newPage()
      await tab.goto(host.url)
      await tab.waitForFunction(
        () => (window as unknown as { __bench: { all?: number } }).__bench.all,
        null,
        {
          timeout: 15_000,
        },
      )
      await tab.waitForTimeout(ctx.quick ? 100 : 1_000) // late shifts, if any, count too
      const r: Probe = await tab.evaluate(() => {
        const w = window as unknown as { __bench: Probe }
        const script = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/widget.js')) as
          | PerformanceResourceTiming
          | undefined
        return { ...w.__bench, script: script?.responseEnd ?? Number.NaN }
      })
      await context.close()
      if (i > 0)
        loads.push({
          firstPriceMs: r.first,
          allPricesMs: r.all,
          cls: r.cls,
          scriptLoadedMs: r.script,
          socketOpenMs: r.wsOpen,
          snapshotMs: r.wsFrame,
        })
    }
  } finally {
    await Promise.all([browser.close(), host.close(), server.stop()])
  }
  const first = loads.map((l) => l.firstPriceMs)
  const all = loads.map((l) => l.allPricesMs)
  const cls = Math.max(...loads.map((l) => l.cls))
  ctx.log(
    `first price painted: median ${median(first).toFixed(1)} ms over ${loads.length} cold loads; CLS ${cls}`,
  )
  return {
    figures: [
      { name: 'widget.js gzip', value: gzip, unit: 'B', target: { op: '<=', value: BUDGET } },
      ...(elementsGzip === null
        ? []
        : [{ name: 'elements.js gzip', value: elementsGzip, unit: 'B', note: 'bundler entry' }]),
      {
        name: 'first price painted, median',
        value: median(first),
        unit: 'ms',
        target: { op: '<=', value: 150 },
      },
      { name: 'first price painted, p90', value: percentile(first, 90), unit: 'ms' },
      { name: 'all three elements priced, median', value: median(all), unit: 'ms' },
      {
        name: 'widget.js loaded, median',
        value: median(loads.map((l) => l.scriptLoadedMs)),
        unit: 'ms',
        note: 'since navigation',
      },
      {
        name: 'socket open, median',
        value: median(loads.map((l) => l.socketOpenMs)),
        unit: 'ms',
        note: 'since navigation',
      },
      {
        name: 'snapshot received, median',
        value: median(loads.map((l) => l.snapshotMs)),
        unit: 'ms',
        note: 'since navigation',
      },
      { name: 'CLS, worst load', value: cls, unit: '', target: { op: '==', value: 0 } },
    ],
    details: {
      gzip,
      elementsGzip,
      loads,
      server: server.entry,
      loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
    },
  }
}
