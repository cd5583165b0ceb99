/**
 * The script-tag entry (dist/widget.js): defines <pricewire-card>, <pricewire-tape> and
 * <pricewire-badge>. Loading it twice, or next to another copy, is harmless.
 */
import { PricewireBadge, PricewireCard, PricewireTape } from './elements.js'

const elements = {
  'pricewire-card': PricewireCard,
  'pricewire-tape': PricewireTape,
  'pricewire-badge': PricewireBadge,
}

for (const [name, element] of Object.entries(elements)) {
  if (!customElements.get(name)) customElements.define(name, element)
}

declare global {
  interface HTMLElementTagNameMap {
    'pricewire-card': PricewireCard
    'pricewire-tape': PricewireTape
    'pricewire-badge': PricewireBadge
  }
}
