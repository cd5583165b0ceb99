import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { embedPage, launchChromium, type PageHost, startPageHost } from '../tests/helpers/browser.js'
import { alternate } from './lib/ab.js'
import { type Child, ROOT, sleep, startChild } from './lib/children.js'
import type { BenchContext } from './lib/context.js'
import { NotReady, withTempDir } from './lib/context.js'
import { type PageRecords, stage, type TickTrace, traceTicks } from './lib/e2e-trace.js'
import { EPOCH_CLOCK_JS, epochClock } from './lib/epoch-clock.js'
import { type RunningPricewire, startPricewire } from './lib/pricewire.js'
import { type CpuUse, CpuWindow } from './lib/proc.js'
import type { Figure } from './lib/report.js'
import { median, percentile, sum } from './lib/stats.js'
import { TICK_OF_TEXT_JS } from './lib/tick-prices.js'

/**
 * End to end: a tick pushed on a fake exchange stream → the price in a widget's DOM, in headless
 * Chromium on a page of another origin. The fake Binance (REST + ticker WebSocket) runs in its own
 * process with an observer client per contender; the real server runs in its own process with the
 * Binance stream on; the page embeds <pricewire-card> and a MutationObserver on its shadow DOM
 * time-stamps each new price text. Baseline in the same run, rounds alternating: a bare ws relay
 * (own process) forwarding each push as a small JSON frame to a page that sets textContent.
 * Two rates: realistic (a tick every 270–330 ms, under the 4/s publish budget) and fast (every ~100 ms,
 * over it: coalescing skips ticks and holds others back; what that costs is reported).
 */

const ASSET = 'e2e'
const MARKET = 'E2EUSDT'
type Who = 'pricewire' | 'relay'
type Rate = 'normal' | 'fast'

const RATES: Record<Rate, { minGapMs: number; maxGapMs: number }> = {
  normal: { minGapMs: 270, maxGapMs: 330 },
  fast: { minGapMs: 90, maxGapMs: 110 },
}

interface Plan {
  rounds: number
  ticks: Record<Rate, number>
  warmTicks: number
}

const PLANS: Record<'quick' | 'full', Plan> = {
  quick: { rounds: 1, ticks: { normal: 7, fast: 8 }, warmTicks: 4 },
  full: { rounds: 3, ticks: { normal: 80, fast: 30 }, warmTicks: 12 },
}

/** In both pages, before anything else: the clock, the socket tap and the DOM watch. */
const PROBE = `<script>
${EPOCH_CLOCK_JS}
${TICK_OF_TEXT_JS}
(() => {
  const s = { now: __epochClock(), dom: [], paint: [], ws: [], last: null };
  window.__e2e = s;
  s.reset = () => { s.now = __epochClock(); s.dom = []; s.paint = []; s.ws = []; };
  s.take = () => { const out = { dom: s.dom, paint: s.paint, ws: s.ws }; s.dom = []; s.paint = []; s.ws = []; return out; };
  // Registered in the constructor, so it runs before the page's own onmessage handler.
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...a) { super(...a); this.addEventListener('message', (e) => { s.ws.push([s.now(), e.data]); }); }
  };
  s.watch = (root, priceText) => {
    const seen = () => {
      const t = s.now();
      const n = __tickOfText(priceText() ?? '');
      if (n === null || n === s.last) return;
      s.last = n;
      s.dom.push([n, t]);
      requestAnimationFrame(() => s.paint.push([n, s.now()]));
    };
    new MutationObserver(seen).observe(root, { subtree: true, childList: true, characterData: true });
    seen();
  };
})();
</script>`

const CARD_BODY = `<pricewire-card asset="${ASSET}"></pricewire-card>
<script type="module">
  await customElements.whenDefined('pricewire-card');
  const el = document.querySelector('pricewire-card');
  await el.updateComplete;
  __e2e.watch(el.shadowRoot, () => el.shadowRoot.querySelector('[part=price]')?.textContent);
</script>`

const relayPage = (
  port: number,
) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Relay</title>
${PROBE}</head><body><main><span id="price"></span>
<script type="module">
  const span = document.getElementById('price');
  const fmt = new Intl.NumberFormat('en', { style: 'currency', currency: 'USD' });
  const ws = new WebSocket('ws://127.0.0.1:${port}');
  ws.onmessage = (e) => { const q = JSON.parse(e.data).quotes?.[0]; if (q) span.textContent = fmt.format(q.price); };
  __e2e.watch(span, () => span.textContent);
</script></main></body></html>`

interface Phase {
  who: Who
  rate: Rate
  round: number
  traces: TickTrace[]
  cpu: CpuUse
  /** When the observer got a publish that repeated the price it already had (a REST reconciliation). */
  refreshes: number[]
  /** Page clock minus this process's clock, measured around one evaluate (ms), and that call's length. */
  clock: { offsetMs: number; rttMs: number }
}

export async function e2eBench(ctx: BenchContext): Promise<{ figures: Figure[]; details: unknown }> {
  if (!existsSync(join(ROOT, 'dist/widget.js')))
    throw new NotReady('dist/widget.js is missing: run `npm run build:widget`')
  if (!existsSync('/usr/bin/chromium') && !process.env.CHROMIUM_PATH)
    throw new NotReady('no Chromium at /usr/bin/chromium (set CHROMIUM_PATH)')
  const plan = PLANS[ctx.quick ? 'quick' : 'full']
  return withTempDir('pricewire-e2e-', async (dir) => {
    const assetsFile = join(dir, 'assets.json')
    writeFileSync(
      assetsFile,
      JSON.stringify({
        assets: [
          {
            id: ASSET,
            symbol: 'E2E',
            name: 'End to end',
            markets: [{ source: 'binance', symbol: MARKET, quote: 'USDT' }],
          },
        ],
      }),
    )
    const gen = startChild({ name: 'fake binance', entry: 'bench/servers/fake-binance.ts', ipc: true })
    const children: Child[] = [gen]
    const { restUrl, wsUrls } = await gen.request<{
      type: string
      restUrl: string
      wsUrls: Record<Who, string>
    }>({ cmd: 'start', market: MARKET }, 'ready')
    const relay = startChild({
      name: 'bare relay',
      entry: 'bench/servers/bare-relay.ts',
      args: [wsUrls.relay, MARKET, ASSET],
      ipc: true,
    })
    children.push(relay)
    // Chromium and the page host are not harness children: whatever started is closed in `finally`.
    let server: RunningPricewire | undefined
    let host: PageHost | undefined
    let browser: Browser | undefined
    try {
      const started = await Promise.allSettled([
        startPricewire({
          name: 'pricewire (e2e)',
          profileDir: ctx.profileDir,
          env: {
            PRICEWIRE_SOURCES: 'binance',
            PRICEWIRE_SOURCE_URL_BINANCE: restUrl,
            PRICEWIRE_SOURCE_WS_URL_BINANCE: wsUrls.pricewire,
            PRICEWIRE_ASSETS_FILE: assetsFile,
            // Rounds pause one stream while the other contender runs: that is not an exchange failure.
            PRICEWIRE_STREAM_SILENCE_MS: '600000',
          },
        }).then((s) => (server = s)),
        relay.next<{ type: string; port: number }>('ready'),
        startPageHost().then((h) => (host = h)),
        launchChromium().then((b) => (browser = b)),
      ])
      for (const r of started) if (r.status === 'rejected') throw r.reason
      const relayPort = (started[1] as PromiseFulfilledResult<{ port: number }>).value.port
      return await measure(ctx, plan, {
        gen,
        server: server!,
        relay,
        relayPort,
        host: host!,
        browser: browser!,
      })
    } finally {
      // Clients first, so the server's graceful shutdown has no sockets to wait for.
      await Promise.all([browser?.close(), host?.close(), ...children.map((c) => c.stop(2_000))])
      await server?.stop()
    }
  })
}

interface Parts {
  gen: Child
  server: RunningPricewire
  relay: Child
  relayPort: number
  host: PageHost
  browser: Browser
}

async function measure(ctx: BenchContext, plan: Plan, parts: Parts) {
  const { gen, server, relay, relayPort, host, browser } = parts
  const pages = {} as Record<Who, Page>
  host.set(embedPage(server.url, CARD_BODY, { head: PROBE }), '/')
  host.set(relayPage(relayPort), '/relay')
  for (const [who, path] of [
    ['pricewire', ''],
    ['relay', 'relay'],
  ] as const) {
    const context = await browser.newContext({ viewport: { width: 800, height: 600 } })
    pages[who] = await context.newPage()
    await pages[who].goto(`${host.url}${path}`)
  }
  await gen.request(
    {
      cmd: 'observe',
      target: 'pricewire',
      url: `${server.url.replace('http', 'ws')}/v1/stream`,
      asset: ASSET,
    },
    'observing',
  )
  await gen.request(
    { cmd: 'observe', target: 'relay', url: `ws://127.0.0.1:${relayPort}`, asset: ASSET },
    'observing',
  )
  for (const who of ['pricewire', 'relay'] as const)
    await gen.request({ cmd: 'wait-subscribed', target: who }, 'subscribed', 25_000)
  ctx.log(`server (${server.entry}), relay, pages up; both streams subscribed`)

  let nextTick = 1
  const pids: Record<Who, number> = { pricewire: server.child.pid, relay: relay.pid }

  /** Pushes `count` ticks to one contender and gathers every observer's records. */
  const runPhase = async (who: Who, rate: Rate, count: number, round: number): Promise<Phase> => {
    const page = pages[who]
    await page.evaluate(() => (window as unknown as { __e2e: { reset(): void } }).__e2e.reset())
    const clock = await clockCheck(page)
    const first = nextTick
    nextTick += count
    const last = first + count - 1
    const cpu = new CpuWindow({ proc: pids[who] })
    const { sent } = await gen.request<{ type: string; sent: [number, number][] }>(
      { cmd: 'ticks', target: who, first, count, ...RATES[rate] },
      'ticked',
      count * 1_000 + 10_000,
    )
    // The newest tick is always delivered (coalescing keeps the latest): wait for it, then a little.
    await page
      .waitForFunction(
        (n) => ((window as unknown as { __e2e: { last: number | null } }).__e2e.last ?? 0) >= n,
        last,
        {
          timeout: 3_000,
        },
      )
      .catch(() => ctx.log(`${who} ${rate}: tick ${last} not shown within 3 s`))
    await sleep(60)
    const use = cpu.stop().proc
    const records = await page.evaluate(() =>
      (window as unknown as { __e2e: { take(): PageRecords } }).__e2e.take(),
    )
    const { frames } = await gen.request<{ type: string; frames: [number, number, number][] }>(
      { cmd: 'collect', target: who },
      'observed',
    )
    const refreshes = samePricePublishes(frames)
    return { who, rate, round, traces: traceTicks(sent, frames, records), cpu: use, refreshes, clock }
  }

  // Warm-up, unmeasured: JIT, connections, the first publish; and a check that the path works at all.
  for (const who of ['pricewire', 'relay'] as const) {
    const p = await runPhase(who, 'fast', plan.warmTicks, -1)
    if (!p.traces.some((t) => t.dom !== undefined))
      throw new Error(`${who}: no pushed price ever reached the page's DOM`)
  }

  const phases: Phase[] = []
  const t0 = performance.now()
  await alternate(['pricewire', 'relay'] as const, plan.rounds, async (who, round) => {
    for (const rate of ['normal', 'fast'] as const)
      phases.push(await runPhase(who, rate, plan.ticks[rate], round))
  })
  ctx.log(`${phases.length} phases in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  return summarise(ctx, phases, server.entry)
}

/** Page clock minus this process's epoch clock, from one evaluate bracketed by two readings. */
async function clockCheck(page: Page): Promise<{ offsetMs: number; rttMs: number }> {
  const now = epochClock()
  const before = now()
  const inPage = await page.evaluate(() => (window as unknown as { __e2e: { now(): number } }).__e2e.now())
  const after = now()
  return { offsetMs: inPage - (before + after) / 2, rttMs: after - before }
}

/** Times of observed quotes carrying the same tick as the one before (a publish with no new price). */
function samePricePublishes(frames: readonly [number, number, number][]): number[] {
  const out: number[] = []
  let previous: [number, number, number] | undefined
  for (const f of [...frames].sort((a, b) => a[1] - b[1])) {
    if (previous && f[0] === previous[0] && f[2] !== previous[2]) out.push(f[1])
    previous = f
  }
  return out
}

/** How long a delayed publish can hold later ticks back: ~5 ticks of 300 ms against a 250 ms budget. */
const HOLD_WINDOW_MS = 2_000

const pct = (part: number, whole: number) => (whole ? (part / whole) * 100 : Number.NaN)

function summarise(ctx: BenchContext, phases: readonly Phase[], entry: string) {
  const pick = (who: Who, rate: Rate) => phases.filter((p) => p.who === who && p.rate === rate)
  const traces = (who: Who, rate: Rate) => pick(who, rate).flatMap((p) => p.traces)
  const lat = (who: Who, rate: Rate) => stage(traces(who, rate), 'sent', 'dom')
  const shown = (who: Who, rate: Rate) => {
    const t = traces(who, rate)
    return pct(t.filter((x) => x.dom !== undefined).length, t.length)
  }
  const perRoundRatio = (p: number) => {
    const a = pick('pricewire', 'normal').map((ph) => percentile(stage(ph.traces, 'sent', 'dom'), p))
    const b = pick('relay', 'normal').map((ph) => percentile(stage(ph.traces, 'sent', 'dom'), p))
    return median(a.map((x, i) => x / b[i]!))
  }
  const cpuOf = (who: Who) => {
    const ps = pick(who, 'normal')
    const cpuMs = ps.reduce((s, p) => s + p.cpu.cpuMs, 0)
    const wallMs = ps.reduce((s, p) => s + p.cpu.wallMs, 0)
    const ticks = ps.reduce((s, p) => s + p.traces.length, 0)
    return { pct: pct(cpuMs, wallMs), perTick: cpuMs / ticks }
  }
  const pw = lat('pricewire', 'normal')
  const base = lat('relay', 'normal')
  const pwNormal = traces('pricewire', 'normal')
  const pwFast = traces('pricewire', 'fast')
  const cpu = { pricewire: cpuOf('pricewire'), relay: cpuOf('relay') }
  // Which realistic-rate ticks came soon after a publish that used up the asset's budget with no new price.
  const marked = pick('pricewire', 'normal').flatMap((ph) =>
    ph.traces.map((tr) => ({
      tr,
      afterRefresh: ph.refreshes.some((r) => r <= tr.sent && tr.sent - r <= HOLD_WINDOW_MS),
    })),
  )
  const held = marked.filter((x) => x.tr.computed !== undefined && x.tr.computed - x.tr.sent >= 50)
  const clear = marked.filter((x) => !x.afterRefresh).map((x) => x.tr)
  const p50 = (xs: number[]) => percentile(xs, 50)
  const p99 = (xs: number[]) => percentile(xs, 99)
  ctx.log(
    `tick → DOM: pricewire p50 ${p50(pw).toFixed(1)} / p99 ${p99(pw).toFixed(1)} ms (${pw.length} ticks); ` +
      `bare relay p50 ${p50(base).toFixed(1)} / p99 ${p99(base).toFixed(1)} ms`,
  )
  const figures: Figure[] = [
    { name: 'tick → DOM, p50', value: p50(pw), unit: 'ms', target: { op: '<=', value: 50 } },
    { name: 'tick → DOM, p99', value: p99(pw), unit: 'ms', target: { op: '<=', value: 150 } },
    { name: 'tick → DOM, max', value: pw.length ? Math.max(...pw) : Number.NaN, unit: 'ms' },
    { name: 'ticks shown in the DOM', value: shown('pricewire', 'normal'), unit: '%', note: '~3.3/s' },
    { name: 'bare relay tick → DOM, p50', value: p50(base), unit: 'ms', note: 'baseline' },
    { name: 'bare relay tick → DOM, p99', value: p99(base), unit: 'ms', note: 'baseline' },
    { name: 'p50 ratio to bare relay', value: perRoundRatio(50), unit: '×', note: 'median of rounds' },
    { name: 'p99 ratio to bare relay', value: perRoundRatio(99), unit: '×', note: 'median of rounds' },
    {
      name: 'tick → quote computed, p50',
      value: p50(stage(pwNormal, 'sent', 'computed')),
      unit: 'ms',
      note: 'ingest + coalescer; 1 ms clock',
    },
    {
      name: 'quote computed → frame at a client, p50',
      value: p50(stage(pwNormal, 'computed', 'serverOut')),
      unit: 'ms',
      note: 'bus + hub + loopback',
    },
    {
      name: 'frame at a client → page socket, p50',
      value: p50(stage(pwNormal, 'serverOut', 'pageIn')),
      unit: 'ms',
      note: 'Chromium network; ± observer lag',
    },
    {
      name: 'page socket → DOM, p50',
      value: p50(stage(pwNormal, 'pageIn', 'dom')),
      unit: 'ms',
      note: 'widget',
    },
    {
      name: 'tick → next frame, p50',
      value: p50(stage(pwNormal, 'sent', 'paint')),
      unit: 'ms',
      note: 'rAF after DOM',
    },
    {
      name: 'publishes with no new price',
      value: sum(pick('pricewire', 'normal').map((p) => p.refreshes.length)),
      unit: '',
      note: 'REST reconciliation',
    },
    { name: 'ticks held ≥ 50 ms before publish', value: held.length, unit: '' },
    {
      name: 'of those, ≤ 2 s after a no-new-price publish',
      value: held.filter((x) => x.afterRefresh).length,
      unit: '',
    },
    {
      name: 'tick → DOM, p99 of ticks > 2 s after one',
      value: p99(stage(clear, 'sent', 'dom')),
      unit: 'ms',
      note: 'diagnostic',
    },
    {
      name: 'fast ticks shown in the DOM',
      value: shown('pricewire', 'fast'),
      unit: '%',
      note: '~10/s > 4/s budget',
    },
    { name: 'fast: shown tick → DOM, p50', value: p50(lat('pricewire', 'fast')), unit: 'ms' },
    { name: 'fast: shown tick → DOM, p99', value: p99(lat('pricewire', 'fast')), unit: 'ms' },
    {
      name: 'fast: tick → it or newer in DOM, p50',
      value: p50(stage(pwFast, 'sent', 'domOrNewer')),
      unit: 'ms',
    },
    {
      name: 'fast: tick → it or newer in DOM, p99',
      value: p99(stage(pwFast, 'sent', 'domOrNewer')),
      unit: 'ms',
    },
    {
      name: 'fast: bare relay tick → DOM, p50',
      value: p50(lat('relay', 'fast')),
      unit: 'ms',
      note: 'baseline',
    },
    { name: 'server CPU', value: cpu.pricewire.pct, unit: '% of a core', note: '~3.3 ticks/s' },
    { name: 'server CPU per tick', value: cpu.pricewire.perTick, unit: 'ms' },
    { name: 'bare relay CPU per tick', value: cpu.relay.perTick, unit: 'ms', note: 'baseline' },
    {
      name: 'CPU per tick ratio to bare relay',
      value: cpu.relay.perTick > 0 ? cpu.pricewire.perTick / cpu.relay.perTick : null,
      unit: '×',
    },
  ]
  return {
    figures,
    details: {
      server: entry,
      rates: RATES,
      loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
      phases: phases.map((p) => ({
        who: p.who,
        rate: p.rate,
        round: p.round,
        ticks: p.traces.length,
        shown: p.traces.filter((t) => t.dom !== undefined).length,
        p50: percentile(stage(p.traces, 'sent', 'dom'), 50),
        p99: percentile(stage(p.traces, 'sent', 'dom'), 99),
        max: Math.max(0, ...stage(p.traces, 'sent', 'dom')),
        cpu: p.cpu,
        clock: p.clock,
        refreshes: p.refreshes,
        traces: p.traces.map((t) => ({
          tick: t.tick,
          sent: t.sent,
          computed: t.computed && t.computed - t.sent,
          serverOut: t.serverOut && t.serverOut - t.sent,
          pageIn: t.pageIn && t.pageIn - t.sent,
          dom: t.dom && t.dom - t.sent,
          paint: t.paint && t.paint - t.sent,
        })),
      })),
    },
  }
}
