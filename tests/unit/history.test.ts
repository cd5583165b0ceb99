import { describe, expect, it } from 'vitest'
import { aggregateQuote } from '../../server/ingest/aggregate.js'
import { candlesToPoints, needsBackfill } from '../../server/ingest/backfill.js'
import {
  bucketStart,
  downsample,
  HistoryBook,
  price24hAgo,
  priceAt,
  volatility24h,
} from '../../server/ingest/history.js'
import { type HistoryPoint, RESOLUTION_MS } from '../../shared/quote.js'

const M5 = RESOLUTION_MS['5m']
const H1 = RESOLUTION_MS['1h']
const DAY = 24 * H1
/** A time in the middle of a 5-minute bucket. */
const NOW = Math.floor(1_800_000_000_000 / H1) * H1 + 7 * M5 + 90_000

/** A 5-minute series of `n` points ending at the current bucket, price = f(ts). */
function series(n: number, f: (ts: number, i: number) => number): HistoryPoint[] {
  const current = bucketStart(NOW, '5m')
  return Array.from({ length: n }, (_, k) => {
    const ts = current - (n - 1 - k) * M5
    return [ts, f(ts, k)] as HistoryPoint
  })
}

describe('buckets and downsampling', () => {
  it('keys a time at its bucket start', () => {
    expect(bucketStart(NOW, '5m') % M5).toBe(0)
    expect(NOW - bucketStart(NOW, '5m')).toBe(90_000)
    expect(bucketStart(NOW, '1h')).toBe(NOW - 7 * M5 - 90_000)
  })

  it('downsamples 5-minute points to hourly ones: the last price of each hour at the hour start', () => {
    const five = series(36, (_ts, i) => i + 1) // 3 hours' worth, ending mid-hour
    const hourly = downsample(five, '1h')
    expect(hourly.every(([ts]) => ts % H1 === 0)).toBe(true)
    for (const [ts, price] of hourly) {
      const inHour = five.filter(([t]) => t >= ts && t < ts + H1)
      expect(price).toBe(inHour[inHour.length - 1]![1])
    }
    expect(hourly[hourly.length - 1]![1]).toBe(36)
  })
})

describe('HistoryBook', () => {
  it('updates the current bucket in place with the latest price, keyed at bucket start', () => {
    const book = new HistoryBook()
    const a = book.record('pol', 1, NOW)
    const b = book.record('pol', 2, NOW + 10_000)
    expect(a.closed).toEqual([])
    expect(b.closed).toEqual([])
    expect(b.writes).toEqual([
      { asset: 'pol', resolution: '5m', point: [bucketStart(NOW, '5m'), 2] },
      { asset: 'pol', resolution: '1h', point: [bucketStart(NOW, '1h'), 2] },
    ])
    expect(book.get('pol', '5m')).toEqual([[bucketStart(NOW, '5m'), 2]])
  })

  it('reports a bucket when it closes, with its final price, once', () => {
    const book = new HistoryBook()
    const start = bucketStart(NOW, '5m')
    book.record('pol', 1, NOW)
    book.record('pol', 1.5, NOW + 60_000)
    const next = book.record('pol', 2, start + M5 + 1)
    expect(next.closed).toEqual([{ asset: 'pol', resolution: '5m', point: [start, 1.5] }])
    expect(book.record('pol', 2.1, start + M5 + 2).closed).toEqual([])
    expect(book.get('pol', '5m')).toEqual([
      [start, 1.5],
      [start + M5, 2.1],
    ])
  })

  it('closes the hourly bucket at the hour', () => {
    const book = new HistoryBook()
    const hour = bucketStart(NOW, '1h')
    book.record('pol', 1, NOW)
    const r = book.record('pol', 3, hour + H1 + 5)
    expect(r.closed).toEqual([
      { asset: 'pol', resolution: '5m', point: [bucketStart(NOW, '5m'), 1] },
      { asset: 'pol', resolution: '1h', point: [hour, 1] },
    ])
  })

  it('trims points older than the retention', () => {
    const book = new HistoryBook()
    book.set(
      'pol',
      '5m',
      series(400, () => 1),
      NOW,
    )
    expect(book.get('pol', '5m').length).toBe(300) // the 5-minute points of the last 25 h
    book.record('pol', 1, NOW + DAY)
    expect(book.get('pol', '5m').every(([ts]) => ts >= NOW + DAY - 25 * H1)).toBe(true)
  })
})

describe('24 h figures from a known series', () => {
  // Price rises linearly from 100 (oldest) by 1 per 5-minute point.
  const known = series(289, (_ts, i) => 100 + i)

  it('finds the price 24 h ago: the point whose close is nearest to now - 24 h', () => {
    const target = NOW - DAY
    const expected = known.reduce((best, p) =>
      Math.abs(p[0] + M5 - target) < Math.abs(best[0] + M5 - target) ? p : best,
    )
    expect(price24hAgo(known, NOW)).toBe(expected[1])
    expect(price24hAgo(known, NOW)).toBe(100)
  })

  it('gives null when no point is within the tolerance', () => {
    const recent = known.filter(([ts]) => ts > NOW - 20 * H1)
    expect(price24hAgo(recent, NOW)).toBeNull()
    expect(priceAt([], '5m', NOW, NOW, 1000)).toBeNull()
  })

  it('change24h is the price now against the aggregated price 24 h ago', () => {
    const q = aggregateQuote({
      asset: { id: 'pol', symbol: 'POL', name: 'Polygon' },
      ticks: [
        {
          tick: {
            source: 'binance',
            market: 'POLUSDT',
            last: 150,
            open24h: 1, // an exchange's own open is never used
            high24h: null,
            low24h: null,
            changePercent24h: 99,
            baseVolume: null,
            quoteVolume: null,
            ts: NOW,
            receivedAt: NOW,
          },
          quote: 'USD',
        },
      ],
      now: NOW,
      staleMs: 60_000,
      outlierPct: 5,
      rates: { USDT: null, USDC: null },
      previous: undefined,
      seq: 1,
      price24hAgo: price24hAgo(known, NOW),
      volatility24h: volatility24h(known, NOW),
      circulatingSupply: null,
    }).quote!
    expect(q.open24h).toBe(100)
    expect(q.change24h).toBeCloseTo(50, 10)
  })
})

describe('volatility24h', () => {
  it('is the standard deviation of 5-minute log returns × √288, in percent', () => {
    // Alternating returns of +r and -r: mean 0, sample deviation r·√(n/(n-1)).
    const r = 0.001
    const pts = series(289, (_ts, i) => 100 * Math.exp(i % 2 === 0 ? 0 : r))
    const n = 288
    const expected = r * Math.sqrt(n / (n - 1)) * Math.sqrt(288) * 100
    expect(volatility24h(pts, NOW)).toBeCloseTo(expected, 8)
  })

  it('is 0 for a flat series and null with too few points', () => {
    expect(
      volatility24h(
        series(289, () => 5),
        NOW,
      ),
    ).toBe(0)
    expect(
      volatility24h(
        series(12, () => 5),
        NOW,
      ),
    ).toBeNull()
    expect(
      volatility24h(
        series(13, () => 5),
        NOW,
      ),
    ).toBe(0)
  })

  it('skips gaps (a return across a gap is not a 5-minute return) and ignores points older than 24 h', () => {
    const pts = series(289, (_ts, i) => (i < 100 ? 1 : 1000)) // one big jump between points 99 and 100
    const withGap = pts.filter((_p, i) => i !== 100 && i !== 99)
    expect(volatility24h(withGap, NOW)).toBe(0)
    expect(volatility24h(pts, NOW)).toBeGreaterThan(0)
    const old = series(289, (_ts, i) => (i < 2 ? 1 : 1000))
    expect(volatility24h(old, NOW + 3 * M5)).toBe(0)
  })
})

describe('backfill conversion', () => {
  it('turns candles into USD points at bucket start, dropping bad and future ones', () => {
    const start = bucketStart(NOW, '5m')
    const candle = (ts: number, close: number) => ({
      ts,
      open: close,
      high: close,
      low: close,
      close,
      baseVolume: 1,
    })
    const points = candlesToPoints(
      [
        candle(start - M5 + 1234, 2),
        candle(start, 0),
        candle(start + M5, 3),
        candle(start - 2 * M5, Number.NaN),
      ],
      '5m',
      0.5,
      NOW,
    )
    expect(points).toEqual([[start - M5, 1]])
  })

  it('needs a backfill only when the window has no point', () => {
    expect(needsBackfill([], '5m', NOW)).toBe(true)
    expect(needsBackfill([[NOW - 2 * DAY, 1]], '5m', NOW)).toBe(true)
    expect(needsBackfill([[NOW - 60_000, 1]], '5m', NOW)).toBe(false)
    expect(needsBackfill([[NOW - 3 * DAY, 1]], '1h', NOW)).toBe(false)
  })
})
