import { html } from 'lit'
import { PricewireElement } from '../element.js'
import { themeStyles } from '../theme.styles.js'
import { tapeStyles } from './tape.styles.js'

/**
 * <pricewire-tape assets="btc,eth,pol,talus">: a looping horizontal list of prices. It pauses on
 * hover and keyboard focus, and stands still (scrollable) under prefers-reduced-motion.
 * No live region: a moving list announcing itself would drown a screen reader.
 */
export class PricewireTape extends PricewireElement {
  static override styles = [themeStyles, tapeStyles]
  static override properties = {
    assets: {},
    label: {},
    speed: { type: Number },
    copies: { state: true },
  }

  declare assets: string | undefined
  /** The accessible name of the tape (a region landmark): give each tape on a page its own. */
  declare label: string | undefined
  /** Scrolling speed in CSS pixels per second (default 40). */
  declare speed: number | undefined
  /** How many aria-hidden copies it takes to fill the width. */
  declare copies: number

  constructor() {
    super()
    this.copies = 1
  }

  protected ids() {
    return this.split(this.assets)
  }

  override render() {
    const all = this.ids()
    const ids = all.filter((id) => !this.errors[id])
    const ready = ids.length > 0 && ids.every((id) => this.quotes[id])
    // Nothing shows until every asset has answered: items appearing one by one would shift the others.
    const error = all.length ? this.failure(ids.find((id) => !this.quotes[id]) ?? all[0]!) : 'No assets set'
    const items = ready
      ? ids.map((id) => {
          const q = this.quotes[id]!
          return html`<li part="item"><span part="symbol" class="sym" title=${q.name}>${q.symbol}</span><span part="price" data-a=${id}>${this.price(q)}</span>${this.change(q)}${this.markers(q)}</li>`
        })
      : html`<li class=${error ? 'm' : 'sk'}>${error ? `⚠ ${error}` : ''}</li>`
    return html`<div part="tape" class="vp" tabindex="0" role="region" aria-label=${this.label || 'Crypto prices'} aria-busy=${!ready}>
      <div class="tr"><ul>${items}</ul>${ready ? Array.from({ length: this.copies }, () => html`<ul aria-hidden="true">${items}</ul>`) : ''}</div>
    </div>`
  }

  protected override firstUpdated() {
    const vp = this.renderRoot.querySelector<HTMLElement>('.vp')!
    const list = vp.querySelector('ul')!
    const observer = new ResizeObserver(() => {
      const width = list.offsetWidth
      if (!width) return
      this.copies = Math.ceil(vp.clientWidth / width)
      const track = list.parentElement!
      track.style.setProperty('--k', String(this.copies + 1))
      track.style.animationDuration = `${width / (this.speed || 40)}s`
    })
    observer.observe(list)
    observer.observe(vp)
  }
}
