/** Parses an exchange's numeric field (string or number). Undefined, empty, non-finite → null. */
export function parseNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (typeof value !== 'string' || value.trim() === '') return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

/** A usable price: finite and > 0, else null. */
export function parsePrice(value: unknown): number | null {
  const n = parseNumber(value)
  return n !== null && n > 0 ? n : null
}
