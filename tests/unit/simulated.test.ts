import { describe, expect, it } from 'vitest'
import { loadRegistry } from '../../server/assets.js'
import { volatility24h } from '../../server/ingest/history.js'
import { createSimulatedSource } from '../../server/sources/simulated.js'
import { RESOLUTION_MS, Tick } from '../../shared/quote.js'

const registry = loadRegistry(undefined)
const T0 = 1_800_000_123_456

function clock(start = T0) {
  let t = start
  return { now: () => t, advance: (ms: number) => (t += ms) }
}

describe('simulated source', () => {
  it('serves every registry asset under its id, and only those', async () => {
    const src = createSimulatedSource(registry, 42, { now: clock().now })
    expect(src.id).toBe('simulated')
    expect([...(await src.listMarkets())].sort()).toEqual(['btc', 'eth', 'pol', 'sol', 'talus'])
    const batch = await src.fetchTickers(['pol', 'nope'])
    expect(batch.ticks.map((t) => t.market)).toEqual(['pol'])
    expect(batch.dropped).toBe(0)
  })

  it('starts at realistic prices and produces valid ticks', async () => {
    const c = clock()
    const src = createSimulatedSource(registry, 42, { now: c.now })
    const { ticks } = await src.fetchTickers(['btc', 'eth', 'sol', 'pol', 'talus'])
    const price = Object.fromEntries(ticks.map((t) => [t.market, t.last]))
    expect(price.btc).toBeCloseTo(97_000, -3)
    expect(price.eth).toBeCloseTo(3_500, -2)
    expect(price.sol).toBeCloseTo(180, -1)
    expect(price.pol).toBeCloseTo(0.25, 2)
    expect(price.talus).toBeCloseTo(0.01, 3)
    for (const t of ticks) {
      expect(Tick.parse(t)).toEqual(t)
      expect(t.high24h!).toBeGreaterThanOrEqual(t.last)
      expect(t.low24h!).toBeLessThanOrEqual(t.last)
      expect(t.quoteVolume!).toBeGreaterThan(0)
    }
  })

  it('is deterministic for a seed and differs between seeds', async () => {
    const run = async (seed: number) => {
      const c = clock()
      const src = createSimulatedSource(registry, seed, { now: c.now })
      const out: number[] = []
      for (let i = 0; i < 20; i++) {
        c.advance(10_000)
        out.push(...(await src.fetchTickers(['btc', 'talus'])).ticks.map((t) => t.last))
      }
      return out
    }
    expect(await run(7)).toEqual(await run(7))
    expect(await run(7)).not.toEqual(await run(8))
  })

  it('walks (prices move) but stays positive and near its anchor over a simulated week', async () => {
    const c = clock()
    const src = createSimulatedSource(registry, 1, { now: c.now })
    const seen = new Set<number>()
    for (let i = 0; i < 7 * 24 * 6; i++) {
      c.advance(10 * 60_000)
      const [t] = (await src.fetchTickers(['pol'])).ticks
      expect(t!.last).toBeGreaterThan(0)
      seen.add(t!.last)
    }
    expect(seen.size).toBeGreaterThan(1000)
    const [last] = (await src.fetchTickers(['pol'])).ticks
    expect(last!.last).toBeGreaterThan(0.25 / 3)
    expect(last!.last).toBeLessThan(0.25 * 3)
  })

  it('has 7 days of candles: 288 × 5m and 168 × 1h, oldest first, contiguous, ending at the live price', async () => {
    const c = clock()
    const src = createSimulatedSource(registry, 42, { now: c.now })
    const [tick] = (await src.fetchTickers(['eth'])).ticks
    for (const [resolution, n] of [
      ['5m', 288],
      ['1h', 168],
    ] as const) {
      const candles = await src.fetchCandles('eth', resolution, n)
      expect(candles).toHaveLength(n)
      const step = RESOLUTION_MS[resolution]
      for (let i = 1; i < candles.length; i++) expect(candles[i]!.ts - candles[i - 1]!.ts).toBe(step)
      const last = candles[candles.length - 1]!
      expect(last.ts).toBe(Math.floor(T0 / step) * step)
      expect(last.close).toBe(tick!.last)
      for (const k of candles) {
        expect(k.high).toBeGreaterThanOrEqual(Math.max(k.open, k.close))
        expect(k.low).toBeLessThanOrEqual(Math.min(k.open, k.close))
        expect(k.low).toBeGreaterThan(0)
      }
    }
    expect(await src.fetchCandles('eth', '1h', 10_000)).toHaveLength(169)
    expect(await src.fetchCandles('nope', '5m', 10)).toEqual([])
  })

  it('generates history whose volatility matches the asset (so the card shows one at once)', async () => {
    const src = createSimulatedSource(registry, 42, { now: clock().now })
    const candles = await src.fetchCandles('btc', '5m', 289)
    const vol = volatility24h(
      candles.map((k) => [k.ts, k.close]),
      T0,
    )
    expect(vol).not.toBeNull()
    expect(vol!).toBeGreaterThan(1.5)
    expect(vol!).toBeLessThan(4)
  })
})
