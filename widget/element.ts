import { html, LitElement, type PropertyDeclarations, type TemplateResult } from 'lit'
import { formatPercent, formatPrice } from '../shared/format.js'
import type { HistoryPoint, HistoryWindow, Quote } from '../shared/quote.js'
import { type Listener, watch } from './stream.js'

/**
 * The directory widget.js was loaded from: the default server. (A string edit: Vite would take
 * `new URL('.', import.meta.url)` for an asset to bundle.)
 */
const scriptBase = import.meta.url.replace(/[^/]*$/, '')

const reducedMotion = () => matchMedia('(prefers-reduced-motion: reduce)').matches

/**
 * What the three elements share: the `locale`, `theme` and `server` attributes, one subscription
 * to the page's shared stream (made while connected, remade when what it asks for changes), the
 * quotes and errors it delivers, and the price flash.
 */
export abstract class PricewireElement extends LitElement implements Listener {
  /** Subclasses add theirs; Lit merges the declarations of the whole class chain. */
  static override properties: PropertyDeclarations = {
    locale: {},
    theme: { reflect: true },
    server: {},
  }

  declare locale: string | undefined
  /** light | dark | auto (the default: follows prefers-color-scheme). */
  declare theme: string | undefined
  /** Base URL of the Pricewire server; default: where widget.js came from. */
  declare server: string | undefined

  protected quotes: Record<string, Quote> = {}
  protected errors: Record<string, string> = {}
  /** The text of the polite live region: a price, at most once a minute. */
  protected said = ''
  #saidAt = 0
  /** undefined until the stream knows; false while the server cannot be reached. */
  protected live: boolean | undefined
  #key = ''
  #unwatch: (() => void) | undefined

  /** The asset ids this element shows. */
  protected abstract ids(): string[]

  /** The history window this element wants, if any. */
  protected range(): HistoryWindow | undefined {
    return undefined
  }

  protected get loc(): string {
    return this.locale || document.documentElement.lang || navigator.language
  }

  protected split(list: string | undefined): string[] {
    return (list ?? '')
      .toLowerCase()
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  }

  override connectedCallback() {
    super.connectedCallback()
    this.#key = ''
    this.requestUpdate()
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    this.#unwatch?.()
    this.#unwatch = undefined
  }

  protected override willUpdate() {
    const base = this.server ? new URL(this.server.replace(/\/?$/, '/'), location.href).href : scriptBase
    const ids = this.ids()
    const range = this.range()
    const key = `${base} ${ids} ${range}`
    if (key === this.#key || !this.isConnected) return
    this.#key = key
    this.#unwatch?.()
    this.quotes = {}
    this.errors = {}
    this.#unwatch = ids.length ? watch(base, ids, this, range) : undefined
  }

  onQuote(q: Quote) {
    const old = this.quotes[q.asset]
    this.quotes[q.asset] = q
    delete this.errors[q.asset]
    this.requestUpdate()
    if (old && old.price !== q.price)
      this.updateComplete.then(() => this.#flash(q.asset, q.price > old.price))
    const now = Date.now()
    if (!old) this.#saidAt = now
    else if (now - this.#saidAt >= 60_000) {
      this.said = `${q.name} ${formatPrice(q.price, this.loc)}`
      this.#saidAt = now
    }
  }

  onHistory(_asset: string, _window: HistoryWindow, _points: HistoryPoint[]) {}

  onError(asset: string, message: string) {
    this.errors[asset] = message
    this.requestUpdate()
  }

  onStatus(live: boolean) {
    this.live = live
    this.requestUpdate()
  }

  /** Briefly tints every price of `asset` (marked data-a) green or red; skipped under reduced motion. */
  #flash(asset: string, up: boolean) {
    if (reducedMotion()) return
    for (const el of this.renderRoot.querySelectorAll<HTMLElement>(`[data-a="${asset}"]`)) {
      el.classList.remove('fu', 'fd')
      void el.offsetWidth // restarts the animation
      el.classList.add(up ? 'fu' : 'fd')
    }
  }

  /**
   * The price, padded with figure spaces to the length it has with all its digits ($0.25 and
   * $0.2512 take the same width), so a changing price never moves what follows it.
   */
  protected price(q: Quote): string {
    const text = formatPrice(q.price, this.loc)
    return text + '\u2007'.repeat(formatPrice(q.price, this.loc, 'USD', true).length - text.length)
  }

  /** The 24h change with an arrow and a sign, so it never relies on colour alone. */
  protected change(q: Quote): TemplateResult {
    const c = q.change24h
    const dir = c == null || Math.abs(c) < 0.005 ? '' : c > 0 ? 'up' : 'dn'
    return html`<span part="change" class="chg ${dir}"
      ><span aria-hidden="true">${dir ? (dir === 'up' ? '▲' : '▼') : ''}</span>
      ${formatPercent(c, this.loc, { signed: true })}</span
    >`
  }

  /** The Simulated / Stale markers (stale also while the server cannot be reached). */
  protected markers(q: Quote): TemplateResult {
    return html`${q.simulated ? html`<span part="marker" class="tag">Simulated</span>` : ''}${
      q.stale || this.live === false ? html`<span part="marker" class="tag">Stale</span>` : ''
    }`
  }

  /** The error text for an asset with no quote, or '' while still loading. */
  protected failure(id: string): string {
    return this.errors[id] ?? (this.live === false ? 'Prices unavailable. Retrying…' : '')
  }
}
