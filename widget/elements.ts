/**
 * The element classes without defining them, for bundlers and pages that pick their own tag
 * names: `customElements.define('my-price', PricewireCard)`. Set `server` on each element (or
 * serve this file from the Pricewire server, whose origin is then the default).
 */
export { PricewireBadge } from './badge/badge.js'
export { PricewireCard } from './card/card.js'
export { PricewireElement } from './element.js'
export { PricewireTape } from './tape/tape.js'
