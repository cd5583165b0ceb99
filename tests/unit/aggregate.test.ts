import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type AggregateInput,
  aggregateQuote,
  type MarketTick,
  rejectOutliers,
  toUsd,
  weightedMedian,
} from '../../server/ingest/aggregate.js'
import { stablecoinRates, tickTime } from '../../server/ingest/stablecoins.js'
import { Quote, type QuoteCurrency, type SourceId, type Tick } from '../../shared/quote.js'
import { makeQuote } from '../helpers/quotes.js'

const NOW = 1_800_000_000_000
const ASSET = { id: 'pol', symbol: 'POL', name: 'Polygon' }

function tick(source: SourceId, last: number, over: Partial<Tick> = {}): Tick {
  return {
    source,
    market: `${source}-POL`,
    last,
    open24h: null,
    high24h: null,
    low24h: null,
    changePercent24h: null,
    baseVolume: null,
    quoteVolume: null,
    ts: NOW - 1000,
    receivedAt: NOW - 500,
    ...over,
  }
}

const mt = (t: Tick, quote: QuoteCurrency = 'USD'): MarketTick => ({ tick: t, quote })

function input(ticks: MarketTick[], over: Partial<AggregateInput> = {}): AggregateInput {
  return {
    asset: ASSET,
    ticks,
    now: NOW,
    staleMs: 60_000,
    outlierPct: 5,
    rates: { USDT: null, USDC: null },
    previous: undefined,
    seq: 1,
    price24hAgo: null,
    volatility24h: null,
    circulatingSupply: null,
    ...over,
  }
}

describe('toUsd', () => {
  it('converts a USDT market with the live rate: price, quote volume, high, low', () => {
    const c = toUsd(mt(tick('binance', 0.25, { quoteVolume: 1000, high24h: 0.3, low24h: 0.2 }), 'USDT'), {
      USDT: 0.998,
      USDC: null,
    })
    expect(c?.price).toBeCloseTo(0.2495, 10)
    expect(c?.volumeUsd).toBeCloseTo(998, 8)
    expect(c?.high).toBeCloseTo(0.2994, 10)
    expect(c?.low).toBeCloseTo(0.1996, 10)
    expect(c?.approximate).toBe(false)
  })

  it('uses 1:1 and flags approximate when no live rate is known', () => {
    const c = toUsd(mt(tick('binance', 0.25), 'USDC'), { USDT: 0.999, USDC: null })
    expect(c?.price).toBe(0.25)
    expect(c?.approximate).toBe(true)
  })

  it('derives USD volume from base volume × price when no quote volume is sent', () => {
    const c = toUsd(mt(tick('kraken', 2, { baseVolume: 50 })), { USDT: null, USDC: null })
    expect(c?.volumeUsd).toBe(100)
  })
})

describe('stablecoin rates and tick time', () => {
  it('is the median of fresh, sane ticks; null when none', () => {
    const t = (last: number, age: number) => tick('kraken', last, { ts: NOW - age, receivedAt: NOW - age })
    const rates = stablecoinRates(
      [
        { coin: 'USDT', tick: t(0.998, 1000) },
        { coin: 'USDT', tick: t(1.0, 1000) },
        { coin: 'USDT', tick: t(0.999, 1000) },
        { coin: 'USDT', tick: t(0.5, 120_000) }, // stale
        { coin: 'USDC', tick: t(42, 1000) }, // not a stablecoin price
      ],
      NOW,
      60_000,
    )
    expect(rates).toEqual({ USDT: 0.999, USDC: null })
  })

  it('uses ts, else receivedAt, and never a time after receipt', () => {
    expect(tickTime({ ts: 5, receivedAt: 10 })).toBe(5)
    expect(tickTime({ ts: null, receivedAt: 10 })).toBe(10)
    expect(tickTime({ ts: 99, receivedAt: 10 })).toBe(10)
  })
})

describe('weightedMedian', () => {
  it('follows the volume', () => {
    expect(
      weightedMedian([
        { value: 1, weight: 10 },
        { value: 2, weight: 1 },
        { value: 3, weight: 1 },
      ]),
    ).toBe(1)
    expect(
      weightedMedian([
        { value: 1, weight: 1 },
        { value: 2, weight: 1 },
        { value: 3, weight: 10 },
      ]),
    ).toBe(3)
  })

  it('uses equal weights when a volume is unknown or all are zero', () => {
    expect(
      weightedMedian([
        { value: 1, weight: 100 },
        { value: 2, weight: null },
        { value: 3, weight: 1 },
      ]),
    ).toBe(2)
    expect(
      weightedMedian([
        { value: 1, weight: 0 },
        { value: 5, weight: 0 },
      ]),
    ).toBe(3)
  })

  it('averages the middle pair on an exact tie', () => {
    expect(
      weightedMedian([
        { value: 1, weight: 1 },
        { value: 2, weight: 1 },
      ]),
    ).toBe(1.5)
  })
})

describe('rejectOutliers', () => {
  const c = (price: number, volumeUsd: number | null = null) => ({ price, volumeUsd })

  it('rejects what deviates more than outlierPct from the median', () => {
    const { accepted, rejected } = rejectOutliers([c(1), c(1.01), c(0.99), c(10)], 5)
    expect(accepted.map((x) => x.price)).toEqual([1, 1.01, 0.99])
    expect(rejected.map((x) => x.price)).toEqual([10])
  })

  it('keeps a lone source', () => {
    expect(rejectOutliers([c(10)], 5).accepted).toHaveLength(1)
  })

  it('with two disagreeing sources, trusts the one nearest the previous price', () => {
    const { accepted, rejected } = rejectOutliers([c(1), c(10)], 5, 1.02)
    expect(accepted.map((x) => x.price)).toEqual([1])
    expect(rejected.map((x) => x.price)).toEqual([10])
  })

  it('with two disagreeing sources and no previous price, trusts the larger volume', () => {
    const { accepted } = rejectOutliers([c(1, 10), c(10, 1000)], 5)
    expect(accepted.map((x) => x.price)).toEqual([10])
  })
})

describe('aggregateQuote', () => {
  it('builds a full quote: weighted median, sum of volumes, range, change, market cap, sources', () => {
    const ticks = [
      mt(tick('binance', 0.25, { quoteVolume: 3000, high24h: 0.26, low24h: 0.24 }), 'USDT'),
      mt(tick('bybit', 0.251, { quoteVolume: 500, high24h: 0.262, low24h: 0.241 }), 'USDT'),
      mt(tick('kraken', 0.2495, { baseVolume: 2000, ts: null, receivedAt: NOW - 200 }), 'USD'),
    ]
    const r = aggregateQuote(
      input(ticks, {
        rates: { USDT: 1.0, USDC: null },
        price24hAgo: 0.2,
        volatility24h: 3.2,
        circulatingSupply: 10_000_000_000,
        seq: 7,
      }),
    )
    const q = r.quote!
    expect(Quote.parse(q)).toEqual(q)
    expect(q.price).toBe(0.25) // binance holds more than half of the USD volume
    expect(q.volume24h).toBeCloseTo(3000 + 500 + 2000 * 0.2495, 6)
    expect(q.high24h).toBe(0.262)
    expect(q.low24h).toBe(0.24)
    expect(q.open24h).toBe(0.2)
    expect(q.change24h).toBeCloseTo(25, 10)
    expect(q.marketCap).toBeCloseTo(2_500_000_000, 0)
    expect(q.volatility24h).toBe(3.2)
    expect(q.seq).toBe(7)
    expect(q.updatedAt).toBe(NOW)
    expect(q).toMatchObject({
      stale: false,
      approximate: false,
      simulated: false,
      currency: 'USD',
      asset: 'pol',
    })
    expect(q.sources).toEqual([
      { source: 'binance', market: 'binance-POL', price: 0.25, volume24h: 3000, ts: NOW - 1000 },
      { source: 'bybit', market: 'bybit-POL', price: 0.251, volume24h: 500, ts: NOW - 1000 },
      { source: 'kraken', market: 'kraken-POL', price: 0.2495, volume24h: 2000 * 0.2495, ts: NOW - 200 },
    ])
  })

  it('ignores ticks older than the freshness limit', () => {
    const r = aggregateQuote(
      input([
        mt(tick('binance', 0.25)),
        mt(tick('okx', 0.3, { ts: NOW - 61_000, receivedAt: NOW - 61_000 })),
      ]),
    )
    expect(r.quote?.price).toBe(0.25)
    expect(r.quote?.sources.map((s) => s.source)).toEqual(['binance'])
  })

  it('rejects an outlier and reports it', () => {
    const r = aggregateQuote(
      input([mt(tick('binance', 0.25)), mt(tick('okx', 0.251)), mt(tick('bybit', 2.5))]),
    )
    expect(r.rejected.map((c) => c.source)).toEqual(['bybit'])
    expect(r.quote!.price).toBeGreaterThanOrEqual(0.25)
    expect(r.quote!.price).toBeLessThanOrEqual(0.251)
  })

  it('flags approximate when a stablecoin was taken at 1:1', () => {
    const r = aggregateQuote(input([mt(tick('binance', 0.25), 'USDT')]))
    expect(r.quote?.approximate).toBe(true)
  })

  it('marks simulated quotes', () => {
    const r = aggregateQuote(input([mt(tick('simulated', 0.25))]))
    expect(r.quote?.simulated).toBe(true)
  })

  it('leaves 24 h figures null when history is unknown', () => {
    const q = aggregateQuote(input([mt(tick('binance', 0.25))])).quote!
    expect(q).toMatchObject({
      change24h: null,
      open24h: null,
      volatility24h: null,
      marketCap: null,
      high24h: null,
    })
  })

  it('republishes the last price as stale when no source is fresh', () => {
    const previous = makeQuote('pol', { price: 0.24, seq: 4, updatedAt: NOW - 90_000 })
    const old = tick('binance', 0.3, { ts: NOW - 120_000, receivedAt: NOW - 120_000 })
    const q = aggregateQuote(input([mt(old)], { previous, seq: 5 })).quote!
    expect(q).toEqual({ ...previous, seq: 5, stale: true })
  })

  it('says nothing without fresh sources and without a previous quote', () => {
    expect(aggregateQuote(input([])).quote).toBeNull()
  })
})

describe('aggregateQuote properties', () => {
  const currency = fc.constantFrom<QuoteCurrency>('USD', 'USDT', 'USDC')
  const rate = fc.option(fc.double({ min: 0.95, max: 1.05, noNaN: true }), { nil: null })
  const price = fc.double({ min: 1e-8, max: 1e7, noNaN: true, noDefaultInfinity: true })
  const volume = fc.option(fc.double({ min: 0, max: 1e12, noNaN: true, noDefaultInfinity: true }), {
    nil: null,
  })
  const sources: SourceId[] = ['binance', 'okx', 'bybit', 'mexc', 'gate', 'kucoin', 'coinbase', 'kraken']

  it('always yields a valid quote whose price is finite, positive and within the accepted inputs', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ price, volume, base: volume, currency, age: fc.integer({ min: 0, max: 120_000 }) }),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        rate,
        rate,
        fc.double({ min: 0.1, max: 50, noNaN: true }),
        (rows, usdt, usdc, outlierPct) => {
          const ticks = rows.map((r, i) =>
            mt(
              tick(sources[i]!, r.price, {
                quoteVolume: r.volume,
                baseVolume: r.base,
                high24h: r.price * 1.1,
                low24h: r.price * 0.9,
                ts: NOW - r.age,
                receivedAt: NOW - r.age,
              }),
              r.currency,
            ),
          )
          const result = aggregateQuote(input(ticks, { rates: { USDT: usdc, USDC: usdt }, outlierPct }))
          if (result.accepted.length === 0) {
            expect(result.quote).toBeNull()
            return
          }
          const q = result.quote!
          expect(Quote.safeParse(q).success).toBe(true)
          expect(Number.isFinite(q.price)).toBe(true)
          expect(q.price).toBeGreaterThan(0)
          const accepted = result.accepted.map((c) => c.price)
          expect(q.price).toBeGreaterThanOrEqual(Math.min(...accepted) * (1 - 1e-12))
          expect(q.price).toBeLessThanOrEqual(Math.max(...accepted) * (1 + 1e-12))
          if (q.volume24h !== null) expect(Number.isFinite(q.volume24h)).toBe(true)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('one source off by ×10 (or ÷10) never moves the price beyond the outlier threshold', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
        fc.array(fc.record({ spread: fc.double({ min: -0.02, max: 0.02, noNaN: true }), volume }), {
          minLength: 2,
          maxLength: 7,
        }),
        fc.constantFrom(10, 0.1),
        volume,
        fc.integer({ min: 0, max: 7 }),
        (truth, honest, factor, badVolume, position) => {
          const prices = honest.map((h) => ({ price: truth * (1 + h.spread), volume: h.volume }))
          const bad = { price: truth * factor, volume: badVolume }
          const all = [...prices]
          all.splice(Math.min(position, all.length), 0, bad)
          const ticks = all.map((p, i) => mt(tick(sources[i]!, p.price, { quoteVolume: p.volume })))
          const q = aggregateQuote(input(ticks, { outlierPct: 5 })).quote!
          expect(Math.abs(q.price - truth) / truth).toBeLessThanOrEqual(0.05)
          expect(q.sources).toHaveLength(prices.length)
        },
      ),
      { numRuns: 500 },
    )
  })
})
