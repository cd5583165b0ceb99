import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../../server/ingest/backoff.js'
import { type BreakerState, CircuitBreaker } from '../../server/ingest/breaker.js'

describe('CircuitBreaker', () => {
  const make = () => {
    const changes: [BreakerState, BreakerState][] = []
    const b = new CircuitBreaker({ threshold: 3, coolDownMs: 1000, onChange: (s, p) => changes.push([s, p]) })
    return { b, changes }
  }

  it('stays closed below the threshold and opens at N consecutive failures', () => {
    const { b, changes } = make()
    b.failure(0)
    b.failure(10)
    expect(b.state).toBe('closed')
    expect(b.canRequest(20)).toBe(true)
    b.failure(20)
    expect(b.state).toBe('open')
    expect(changes).toEqual([['open', 'closed']])
  })

  it('counts only consecutive failures: a success resets the count', () => {
    const { b } = make()
    b.failure(0)
    b.failure(1)
    b.success()
    b.failure(2)
    b.failure(3)
    expect(b.state).toBe('closed')
    expect(b.consecutiveFailures).toBe(2)
  })

  it('refuses requests during the cool-down, then lets exactly one probe through', () => {
    const { b } = make()
    for (let i = 0; i < 3; i++) b.failure(100)
    expect(b.canRequest(100)).toBe(false)
    expect(b.canRequest(1099)).toBe(false)
    expect(b.probeAt()).toBe(1100)
    expect(b.canRequest(1100)).toBe(true)
    b.begin(1100)
    expect(b.state).toBe('half-open')
    expect(b.canRequest(1101)).toBe(false)
    expect(b.canRequest(5000)).toBe(false)
  })

  it('closes when the probe succeeds', () => {
    const { b, changes } = make()
    for (let i = 0; i < 3; i++) b.failure(0)
    b.begin(1000)
    b.success()
    expect(b.state).toBe('closed')
    expect(b.canRequest(1000)).toBe(true)
    expect(changes.map(([s]) => s)).toEqual(['open', 'half-open', 'closed'])
  })

  it('opens again for a full cool-down when the probe fails', () => {
    const { b } = make()
    for (let i = 0; i < 3; i++) b.failure(0)
    b.begin(1000)
    b.failure(1200)
    expect(b.state).toBe('open')
    expect(b.canRequest(2100)).toBe(false)
    expect(b.canRequest(2200)).toBe(true)
  })

  it('begin() on a closed breaker changes nothing', () => {
    const { b, changes } = make()
    b.begin(0)
    expect(b.state).toBe('closed')
    expect(changes).toEqual([])
  })
})

describe('backoffDelay', () => {
  const opts = { baseMs: 100, maxMs: 5000 }

  it('is the base interval without failures', () => {
    expect(backoffDelay(0, opts)).toBe(100)
  })

  it('doubles per failure, with equal jitter between half and all of it', () => {
    for (const [failures, full] of [
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 800],
    ] as const) {
      expect(backoffDelay(failures, { ...opts, random: () => 0 })).toBe(full / 2)
      expect(backoffDelay(failures, { ...opts, random: () => 0.999999 })).toBe(full)
      const d = backoffDelay(failures, opts)
      expect(d).toBeGreaterThanOrEqual(full / 2)
      expect(d).toBeLessThanOrEqual(full)
    }
  })

  it('is capped at maxMs and stays finite for any failure count', () => {
    expect(backoffDelay(50, { ...opts, random: () => 0.999999 })).toBe(5000)
    expect(backoffDelay(10_000, { ...opts, random: () => 0.5 })).toBe(3750)
    expect(Number.isFinite(backoffDelay(Number.MAX_SAFE_INTEGER, opts))).toBe(true)
  })

  it('never goes below the floor (the exchange rate budget)', () => {
    expect(backoffDelay(1, { ...opts, floorMs: 1000, random: () => 0 })).toBe(1000)
    expect(backoffDelay(0, { ...opts, floorMs: 1000 })).toBe(1000)
  })
})
