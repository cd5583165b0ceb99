/**
 * Number formatting shared by the widget and the SVG badge. Intl only: no dependencies, so it
 * stays tiny in the browser bundle. Formatters are cached per locale and options.
 */

const cache = new Map<string, Intl.NumberFormat>()

function formatter(locale: string | undefined, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale ?? ''}|${JSON.stringify(options)}`
  let f = cache.get(key)
  if (!f) {
    try {
      f = new Intl.NumberFormat(locale, options)
    } catch {
      f = new Intl.NumberFormat('en-US', options) // an invalid locale tag falls back, never throws
    }
    cache.set(key, f)
  }
  return f
}

/** Fraction digits that keep about four significant digits for small prices: $0.01065, $0.25, $97,123.45. */
export function priceFractionDigits(value: number): number {
  const abs = Math.abs(value)
  if (abs === 0 || abs >= 1) return 2
  const leadingZeros = Math.floor(-Math.log10(abs))
  return Math.min(12, Math.max(2, leadingZeros + 4))
}

/**
 * A price with magnitude-aware precision, trailing zeros beyond two decimals dropped ($0.25).
 * `fixed` keeps them ($0.2500): every price of one magnitude then has the same length, which
 * live displays use to keep a steady width. Non-finite values render as an em dash, never "NaN".
 */
export function formatPrice(
  value: number | null | undefined,
  locale?: string,
  currency = 'USD',
  fixed = false,
): string {
  if (value == null || !Number.isFinite(value)) return '—'
  const digits = priceFractionDigits(value)
  return formatter(locale, {
    style: 'currency',
    currency,
    minimumFractionDigits: fixed ? digits : 2,
    maximumFractionDigits: digits,
  }).format(value)
}

/** A percentage given in percent units (1.4 → "1.4%"); `signed` adds + for gains. */
export function formatPercent(
  value: number | null | undefined,
  locale?: string,
  { signed = false, digits = 2 }: { signed?: boolean; digits?: number } = {},
): string {
  if (value == null || !Number.isFinite(value)) return '—'
  return formatter(locale, {
    style: 'percent',
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    signDisplay: signed ? 'exceptZero' : 'auto',
  }).format(value / 100)
}

/** Large amounts in compact notation: $2.64B, $106.17M. */
export function formatCompact(
  value: number | null | undefined,
  locale?: string,
  currency: string | null = 'USD',
): string {
  if (value == null || !Number.isFinite(value)) return '—'
  return formatter(locale, {
    notation: 'compact',
    maximumFractionDigits: 2,
    minimumFractionDigits: Math.abs(value) >= 1000 ? 2 : 0,
    ...(currency ? { style: 'currency', currency } : {}),
  }).format(value)
}

/**
 * A clock time ("14:05"), with the weekday when `withDay` ("Mon 14:00"), in the viewer's time zone.
 * Not cached: it formats one point under a pointer, not a stream of prices.
 */
export function formatTime(ts: number, locale?: string, withDay = false): string {
  if (!Number.isFinite(ts)) return '—'
  const options: Intl.DateTimeFormatOptions = {
    hour: '2-digit',
    minute: '2-digit',
    weekday: withDay ? 'short' : undefined,
  }
  try {
    return new Intl.DateTimeFormat(locale, options).format(ts)
  } catch {
    return new Intl.DateTimeFormat('en-US', options).format(ts)
  }
}
