import type { BadgeField, BadgeTheme } from '../../shared/api.js'
import { formatCompact, formatPercent, formatPrice } from '../../shared/format.js'
import type { Quote } from '../../shared/quote.js'
import type { BadgeBox, BadgeSpec } from './badge-svg.js'

/** What the price badge shows, from a quote: the boxes, their colours, the accessible title. */

interface Palette {
  label: string
  price: string
  up: string
  down: string
  flat: string
  info: string
  stale: string
  error: string
  ink: { text: string; shadow: string }
}

// White text on each fill has at least 4.5:1 contrast.
const PALETTES: Record<BadgeTheme, Palette> = {
  light: {
    label: '#555',
    price: '#0a6ebd',
    up: '#2e7d32',
    down: '#c62828',
    flat: '#6e7781',
    info: '#5c6370',
    stale: '#6e7781',
    error: '#c62828',
    ink: { text: '#fff', shadow: '#010101' },
  },
  dark: {
    label: '#24292f',
    price: '#0b5cad',
    up: '#1a7f37',
    down: '#b62324',
    flat: '#424a53',
    info: '#32383f',
    stale: '#424a53',
    error: '#b62324',
    ink: { text: '#f0f6fc', shadow: '#000' },
  },
}

export interface BadgeAsset {
  id: string
  symbol: string
  name: string
}

const LOCALE = 'en-US'

export function quoteBadge(
  asset: BadgeAsset,
  quote: Quote | undefined,
  show: readonly BadgeField[],
  theme: BadgeTheme,
): BadgeSpec {
  const p = PALETTES[theme]
  const boxes: BadgeBox[] = [{ text: asset.symbol, fill: p.label }]
  if (!quote) {
    boxes.push({ text: 'no data yet', fill: p.stale })
    return { title: `${asset.name} (${asset.symbol}): no data yet`, boxes, ink: p.ink }
  }
  const parts: string[] = [formatPrice(quote.price, LOCALE)]
  boxes.push({ text: parts[0]!, fill: quote.stale ? p.stale : p.price })
  for (const field of show) {
    const box = fieldBox(field, quote, p)
    boxes.push(box)
    parts.push(box.text)
  }
  if (quote.stale) {
    boxes.push({ text: 'stale', fill: p.stale })
    parts.push('stale')
  }
  return { title: `${asset.name} (${asset.symbol}): ${parts.join(', ')}`, boxes, ink: p.ink }
}

function fieldBox(field: BadgeField, q: Quote, p: Palette): BadgeBox {
  switch (field) {
    case 'change': {
      const c = q.change24h
      const fill = c == null || c === 0 ? p.flat : c > 0 ? p.up : p.down
      const arrow = c == null || c === 0 ? '' : c > 0 ? '▲ ' : '▼ '
      return { text: `24h ${arrow}${formatPercent(c, LOCALE, { signed: true })}`, fill }
    }
    case 'volatility':
      return { text: `volatility ${formatPercent(q.volatility24h, LOCALE)}`, fill: p.info }
    case 'marketcap':
      return { text: `mcap ${formatCompact(q.marketCap, LOCALE)}`, fill: p.info }
    case 'volume':
      return { text: `vol ${formatCompact(q.volume24h, LOCALE)}`, fill: p.info }
  }
}

/** The 404 badge: an <img> cannot show a JSON error, so the image itself says what is wrong. */
export function unknownAssetBadge(ref: string, theme: BadgeTheme): BadgeSpec {
  const p = PALETTES[theme]
  return {
    title: `${ref}: unknown asset`,
    boxes: [
      { text: ref, fill: p.label },
      { text: 'unknown asset', fill: p.error },
    ],
    ink: p.ink,
  }
}
