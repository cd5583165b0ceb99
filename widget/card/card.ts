import { html, svg } from 'lit'
import { formatPercent, formatPrice, formatTime } from '../../shared/format.js'
import type { HistoryPoint, HistoryWindow, Quote } from '../../shared/quote.js'
import { PricewireElement } from '../element.js'
import { areaPath, linePath, scaleToBox } from '../sparkline.js'
import { themeStyles } from '../theme.styles.js'
import { cardStyles } from './card.styles.js'

/** SVG user units of the sparkline and the chart (stretched to the element's size). */
const SPARK = [100, 30] as const
const CHART = [300, 120] as const

/**
 * <pricewire-card asset="talus">: logo, name, price, 24h change and a 24h sparkline.
 * variant="chart": a larger live chart with a crosshair (pointer, touch or arrow keys) and a 24h / 7d toggle.
 */
export class PricewireCard extends PricewireElement {
  static override styles = [themeStyles, cardStyles]
  static override properties = {
    asset: {},
    variant: { reflect: true },
    logo: {},
    period: { state: true },
    hover: { state: true },
  }

  declare asset: string | undefined
  /** 'chart' for the large chart; anything else is the compact card. */
  declare variant: string | undefined
  /** URL of a logo image; default: a monogram drawn here (no third-party image host). */
  declare logo: string | undefined
  declare period: HistoryWindow
  /** Index of the point under the crosshair. */
  declare hover: number | undefined
  #history: HistoryPoint[] = []
  #historyWindow: HistoryWindow | undefined
  #shown: HistoryPoint[] = []

  constructor() {
    super()
    this.period = '24h'
  }

  protected ids() {
    return this.split(this.asset).slice(0, 1)
  }

  protected override range() {
    return this.variant === 'chart' ? this.period : '24h'
  }

  override onHistory(_asset: string, window: HistoryWindow, points: HistoryPoint[]) {
    this.#history = points
    this.#historyWindow = window
    this.requestUpdate()
  }

  /** History plus the live price as the newest point. */
  #points(q: Quote): HistoryPoint[] {
    const history = this.#historyWindow === this.range() ? this.#history : []
    const last = history.at(-1)
    return last && last[0] >= q.updatedAt ? history : [...history, [q.updatedAt, q.price]]
  }

  override render() {
    const id = this.ids()[0] ?? ''
    const q = this.quotes[id]
    const chart = this.variant === 'chart'
    return html`<div part="card" class="card">${q ? this.#body(q, chart) : this.#empty(id, chart)}</div>
      <span class="sr" aria-live="polite">${this.said}</span>`
  }

  #empty(id: string, chart: boolean) {
    const error = id ? this.failure(id) : 'No asset set'
    if (error) return html`<div class="hd">${id.toUpperCase()}</div><p class="m" role="status">⚠ ${error}</p>`
    return html`<div class="hd" aria-busy="true"><span class="sk logo"></span><span class="sk">&nbsp;</span></div>
      <div class="pr"><span class="sk">&nbsp;</span></div>
      <span class="sk ${chart ? 'chart' : 'spark'}"></span>
      <span class="sr">Loading price</span>`
  }

  #body(q: Quote, chart: boolean) {
    const dir = (q.change24h ?? 0) >= 0 ? 'up' : 'dn'
    const points = this.#points(q)
    const price = this.price(q)
    // A long price and change together would overflow the compact card: the price then steps down a size.
    const long = price.length + formatPercent(q.change24h, this.loc, { signed: true }).length > 15
    return html`<div class="hd">
        ${this.logo ? html`<img part="logo" class="logo" src=${this.logo} alt="" />` : monogram(q)}
        <span part="name" class="nm">${q.name} <span part="symbol" class="m">(${q.symbol})</span></span>
        ${this.markers(q)}
      </div>
      <div class="pr">
        <span part="price" class="p ${long ? 'l' : ''}" data-a=${q.asset}>${price}</span>${this.change(q)}
        ${chart ? this.#toggle() : ''}
      </div>
      ${
        chart
          ? this.#chart(q, points, dir)
          : html`<svg part="sparkline" class="spark ${dir}" viewBox="0 0 100 30" preserveAspectRatio="none" aria-hidden="true">
              <path class="area" d=${areaPath(points, SPARK[0], SPARK[1], 2)} />
              <path d=${linePath(points, SPARK[0], SPARK[1], 2)} />
            </svg>`
      }`
  }

  #toggle() {
    return html`<span class="range" role="group" aria-label="Chart range">${(['24h', '7d'] as const).map(
      (w) =>
        html`<button part="toggle" aria-pressed=${w === this.period} @click=${() => {
          this.period = w
          this.hover = undefined
        }}>${w}</button>`,
    )}</span>`
  }

  #chart(q: Quote, points: HistoryPoint[], dir: string) {
    const [w, h] = CHART
    this.#shown = points
    const s = scaleToBox(points, w, h, 6)
    const p = this.hover === undefined ? undefined : points[this.hover]
    let lo = q.price
    let hi = q.price
    for (const [, v] of points) {
      lo = Math.min(lo, v)
      hi = Math.max(hi, v)
    }
    const label = `${q.name} price, last ${this.period}: low ${formatPrice(lo, this.loc)}, high ${formatPrice(hi, this.loc)}, now ${this.price(q)}. Arrow keys show earlier prices.`
    return html`<div part="chart" class="chart ${dir}" tabindex="0" role="img" aria-label=${label}
      @pointermove=${this.#onPoint} @pointerdown=${this.#onPoint} @pointerleave=${this.#onLeave} @blur=${this.#onLeave} @keydown=${this.#onKey}>
      <svg viewBox="0 0 300 120" preserveAspectRatio="none">
        <path class="area" d=${areaPath(points, w, h, 6)} />
        <path d=${linePath(points, w, h, 6)} />
        ${p ? svg`<path class="x" d="M${s.x(p[0])},0V${h}"/><path class="dot" d="M${s.x(p[0])},${s.y(p[1])}h0"/>` : ''}
      </svg>
      ${p ? html`<span class="tip">${formatPrice(p[1], this.loc)} · ${formatTime(p[0], this.loc, this.period === '7d')}</span>` : ''}
    </div>`
  }

  /** Places the tooltip beside the crosshair, on the side with room (CSSOM: allowed under a strict CSP). */
  protected override updated() {
    const tip = this.renderRoot.querySelector<HTMLElement>('.tip')
    const p = this.hover === undefined ? undefined : this.#shown[this.hover]
    if (!tip || !p) return
    const x = scaleToBox(this.#shown, 100, 1).x(p[0])
    tip.style.cssText = x < 50 ? `left:${x}%` : `right:${100 - x}%`
  }

  #onPoint = (e: PointerEvent) => {
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect()
    const pts = this.#shown
    if (!pts.length || !r.width) return
    const t0 = pts[0]![0]
    const t = t0 + ((e.clientX - r.left) / r.width) * (pts.at(-1)![0] - t0)
    let best = 0
    pts.forEach(([ts], i) => {
      if (Math.abs(ts - t) < Math.abs(pts[best]![0] - t)) best = i
    })
    this.hover = best
  }

  #onLeave = () => {
    this.hover = undefined
  }

  #onKey = (e: KeyboardEvent) => {
    const last = this.#shown.length - 1
    const at = this.hover ?? last + 1
    const next = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: last }[e.key]
    if (next === undefined) return e.key === 'Escape' && this.#onLeave()
    e.preventDefault()
    this.hover = Math.max(0, Math.min(last, next))
  }
}

/** The symbol's first letter in a circle: a logo that needs no image host. */
const monogram = (q: Quote) =>
  html`<span part="logo" class="logo" aria-hidden="true">${q.symbol.slice(0, 1)}</span>`
