/**
 * The end-to-end benchmark's prices: tick n is pushed at $1,000 + n cents, so every tick has a
 * distinct price that survives aggregation (one source, taken 1:1) and display ("$1,000.42"), and the
 * tick it came from can be read back from any observer: the server's frames, the page's text.
 */

export const BASE_CENTS = 100_000

export const priceOfTick = (n: number): number => (BASE_CENTS + n) / 100

/** The tick number of a price, or null when it is not one of ours. */
export function tickOfPrice(price: number): number | null {
  if (!Number.isFinite(price)) return null
  return Math.round(price * 100) - BASE_CENTS
}

/** The same in the page, from the displayed text ("$1,000.42" plus figure spaces). */
export const TICK_OF_TEXT_JS = `function __tickOfText(text) {
  const v = parseFloat(String(text).replace(/[^0-9.]/g, ''));
  return Number.isFinite(v) ? Math.round(v * 100) - ${BASE_CENTS} : null;
}`
