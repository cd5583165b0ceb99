import { html, type TemplateResult } from 'lit'
import { formatCompact, formatPercent } from '../../shared/format.js'
import type { Quote } from '../../shared/quote.js'
import { PricewireElement } from '../element.js'
import { themeStyles } from '../theme.styles.js'
import { badgeStyles } from './badge.styles.js'

type Stat = 'change' | 'volatility' | 'marketcap' | 'volume'

const LABELS: Record<Stat, string> = {
  change: '',
  volatility: '24h volatility ',
  marketcap: 'Market cap ',
  volume: 'Vol. 24h ',
}

/**
 * <pricewire-badge asset="pol" show="volatility,marketcap,volume">: a price that fits in a sentence,
 * "POL $0.25 · 24h volatility 1.4% · Market cap $2.64B · Vol. 24h $106.17M". The price is always
 * shown; `show` adds any of change, volatility, marketcap, volume, in its order.
 */
export class PricewireBadge extends PricewireElement {
  static override styles = [themeStyles, badgeStyles]
  static override properties = {
    asset: {},
    show: {},
  }

  declare asset: string | undefined
  declare show: string | undefined

  protected ids() {
    return this.split(this.asset).slice(0, 1)
  }

  override render() {
    const id = this.ids()[0] ?? ''
    const q = this.quotes[id]
    const error = id ? this.failure(id) : 'No asset set'
    const stats = this.split(this.show).filter((s): s is Stat => s in LABELS)
    const value = (stat: Stat | 'price', content: (q: Quote) => unknown) =>
      html`<span class="v ${stat}">${q ? content(q) : html`<span class="sk">&nbsp;</span>`}</span>`
    if (!q && error) return html`<span part="badge" class="b">${id.toUpperCase()} ⚠ ${error}</span>`
    // Markers here change no width (a dotted underline and hidden text): the sentence must not move.
    const note =
      q &&
      [q.simulated && 'simulated', (q.stale || this.live === false) && 'stale'].filter(Boolean).join(', ')
    return html`<span part="badge" class="b ${note ? 'note' : ''}" title=${note ? `Price ${note}` : ''} aria-busy=${!q}>${value('price', (q) => html`<span part="symbol">${q.symbol}</span> <span part="price" data-a=${q.asset}>${this.price(q)}</span>`)}${stats.map(
      (s): TemplateResult =>
        s === 'change'
          ? html` ${value(s, (q) => this.change(q))}`
          : html` · <span part="stat">${LABELS[s]}${value(s, (q) =>
              s === 'volatility'
                ? formatPercent(q.volatility24h, this.loc, { digits: 1 })
                : formatCompact(s === 'marketcap' ? q.marketCap : q.volume24h, this.loc),
            )}</span>`,
    )}${note ? html`<span class="sr"> (${note})</span>` : ''}</span><span class="sr" aria-live="polite">${this.said}</span>`
  }
}
