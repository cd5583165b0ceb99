import { describe, expect, it } from 'vitest'
import {
  formatCompact,
  formatPercent,
  formatPrice,
  formatTime,
  priceFractionDigits,
} from '../../shared/format.js'

describe('formatPrice', () => {
  it('keeps about four significant digits below $1 and cents above', () => {
    expect(formatPrice(0.01065, 'en-US')).toBe('$0.01065')
    expect(formatPrice(0.25, 'en-US')).toBe('$0.25')
    expect(formatPrice(0.2512, 'en-US')).toBe('$0.2512')
    expect(formatPrice(97_123.45, 'en-US')).toBe('$97,123.45')
    expect(formatPrice(1, 'en-US')).toBe('$1.00')
    expect(formatPrice(0.000012344, 'en-US')).toBe('$0.00001234')
  })

  it('fixed keeps trailing zeros so one magnitude has one length', () => {
    expect(formatPrice(0.25, 'en-US', 'USD', true)).toBe('$0.2500')
    expect(formatPrice(0.25, 'en-US', 'USD', true)).toHaveLength(formatPrice(0.2512, 'en-US').length)
    expect(formatPrice(97_000, 'en-US', 'USD', true)).toBe('$97,000.00')
  })

  it('follows the locale', () => {
    expect(formatPrice(97_123.45, 'de-DE')).toBe('97.123,45\u00a0$')
    expect(formatPrice(0.25, 'fr-FR')).toBe('0,25\u00a0$US')
  })

  it('never prints NaN, and an invalid locale falls back instead of throwing', () => {
    expect(formatPrice(Number.NaN, 'en-US')).toBe('—')
    expect(formatPrice(Number.POSITIVE_INFINITY)).toBe('—')
    expect(formatPrice(null)).toBe('—')
    expect(formatPrice(undefined)).toBe('—')
    expect(formatPrice(1.5, 'not a locale!')).toBe('$1.50')
  })
})

describe('priceFractionDigits', () => {
  it('grows with leading zeros, within 2 and 12', () => {
    expect(priceFractionDigits(0)).toBe(2)
    expect(priceFractionDigits(5)).toBe(2)
    expect(priceFractionDigits(0.5)).toBe(4)
    expect(priceFractionDigits(0.05)).toBe(5)
    expect(priceFractionDigits(-0.05)).toBe(5)
    expect(priceFractionDigits(1e-15)).toBe(12)
  })
})

describe('formatPercent', () => {
  it('takes percent units, signs gains and losses when asked', () => {
    expect(formatPercent(1.4, 'en-US', { digits: 1 })).toBe('1.4%')
    expect(formatPercent(2.345, 'en-US', { signed: true })).toBe('+2.35%')
    expect(formatPercent(-5.29, 'en-US', { signed: true })).toBe('-5.29%')
    expect(formatPercent(0, 'en-US', { signed: true })).toBe('0.00%')
    expect(formatPercent(12.5, 'de-DE')).toBe('12,50\u00a0%')
    expect(formatPercent(null)).toBe('—')
    expect(formatPercent(Number.NaN)).toBe('—')
  })
})

describe('formatCompact', () => {
  it('abbreviates large amounts', () => {
    expect(formatCompact(2_640_000_000, 'en-US')).toBe('$2.64B')
    expect(formatCompact(106_170_000, 'en-US')).toBe('$106.17M')
    expect(formatCompact(1_500, 'en-US')).toBe('$1.50K')
    expect(formatCompact(950, 'en-US')).toBe('$950')
    expect(formatCompact(2_640_000_000, 'en-US', null)).toBe('2.64B')
    expect(formatCompact(undefined)).toBe('—')
  })
})

describe('formatTime', () => {
  it('formats a clock time, with the weekday when asked', () => {
    const ts = Date.UTC(2026, 10, 23, 14, 5) // a Monday
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone
    const expected = new Intl.DateTimeFormat('en-GB', {
      hour: '2-digit',
      minute: '2-digit',
      timeZone: tz,
    }).format(ts)
    expect(formatTime(ts, 'en-GB')).toBe(expected)
    expect(formatTime(ts, 'en-GB', true)).toMatch(/^[A-Z][a-z]{2} \d\d:\d\d$/)
    expect(formatTime(Number.NaN)).toBe('—')
    expect(formatTime(ts, 'not a locale!')).toMatch(/\d\d:\d\d/)
  })
})
