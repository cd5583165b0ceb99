import type { Quote } from '../../shared/quote.js'

/** A valid quote for tests, with overrides. */
export function makeQuote(asset: string, overrides: Partial<Quote> = {}): Quote {
  return {
    asset,
    symbol: asset.toUpperCase(),
    name: asset,
    currency: 'USD',
    price: 1,
    change24h: null,
    open24h: null,
    high24h: null,
    low24h: null,
    volume24h: null,
    marketCap: null,
    volatility24h: null,
    sources: [],
    updatedAt: Date.now(),
    seq: 1,
    stale: false,
    approximate: false,
    simulated: false,
    ...overrides,
  }
}

export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 5_000,
  stepMs = 20,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await fn()
      if (v) return v as NonNullable<T>
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, stepMs))
  }
  throw new Error(`waitFor timed out after ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`)
}
