import { readFileSync } from 'node:fs'
import { expect } from 'vitest'
import type { Candle } from '../../server/sources/source.js'

/** ccxt's unified ticker, the fields our adapters are compared on; `info` holds raw fields `K` of the exchange's row. */
export interface CcxtTicker<K extends string = 'symbol'> {
  last: number
  open: number | null
  high: number | null
  low: number | null
  percentage: number | null
  baseVolume: number | null
  quoteVolume: number | null
  timestamp: number | null
  info: Record<K, string>
}

/** A candle as ccxt's parsedResponse lists it: [ms, open, high, low, close, baseVolume]. */
export const asCcxtRow = (c: Candle) => [c.ts, c.open, c.high, c.low, c.close, c.baseVolume]

/** Equal within float noise (relative 1e-9), or both null where ccxt has null/undefined. */
export function expectClose(actual: number | null, expected: unknown): void {
  if (expected === null || expected === undefined) {
    expect(actual).toBeNull()
    return
  }
  expect(actual).not.toBeNull()
  const e = expected as number
  expect(Math.abs((actual as number) - e)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(e)))
}

/** A response written from an exchange's API documentation: tests/fixtures/<exchange>/<name>. */
export function docFixture<T = unknown>(exchange: string, name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${exchange}/${name}`, import.meta.url), 'utf8'))
}
