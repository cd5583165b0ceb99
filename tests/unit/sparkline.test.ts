import { describe, expect, it } from 'vitest'
import { areaPath, linePath, type Point, scaleToBox } from '../../widget/sparkline.js'

const coords = (d: string) =>
  [...d.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])])

describe('linePath', () => {
  it('is empty without points', () => {
    expect(linePath([], 100, 30)).toBe('')
    expect(areaPath([], 100, 30)).toBe('')
  })

  it('spans the width, oldest left, highest price at the top within the padding', () => {
    const points: Point[] = [
      [1_000, 10],
      [2_000, 30],
      [3_000, 20],
      [5_000, 10],
    ]
    expect(linePath(points, 100, 30, 2)).toBe('M0,28L25,2L50,15L100,28')
    const xy = coords(linePath(points, 100, 30, 2))
    expect(xy[0]![0]).toBe(0)
    expect(xy.at(-1)![0]).toBe(100)
    for (const [, y] of xy) {
      expect(y).toBeGreaterThanOrEqual(2)
      expect(y).toBeLessThanOrEqual(28)
    }
  })

  it('places x by time, not by index (gaps in history stay gaps)', () => {
    const d = linePath(
      [
        [0, 1],
        [9_000, 2],
        [10_000, 3],
      ],
      100,
      10,
      0,
    )
    expect(d).toBe('M0,10L90,5L100,0')
  })

  it('draws a flat series on the middle line and a single point across the width', () => {
    expect(
      linePath(
        [
          [0, 5],
          [1, 5],
        ],
        100,
        30,
      ),
    ).toBe('M0,15L100,15')
    expect(linePath([[42, 5]], 100, 30)).toBe('M0,15H100')
  })

  it('rounds to two decimals, so paths stay short', () => {
    const points: Point[] = Array.from({ length: 7 }, (_, i) => [i, Math.sin(i) + 2] as const)
    const d = linePath(points, 100, 30)
    expect(d).not.toMatch(/\.\d{3}/)
    expect(coords(d)).toHaveLength(7)
  })
})

describe('areaPath', () => {
  it('closes the line down to the bottom edge', () => {
    const points: Point[] = [
      [0, 1],
      [1, 2],
    ]
    expect(areaPath(points, 100, 30, 1)).toBe(`${linePath(points, 100, 30, 1)}V30H0Z`)
  })
})

describe('scaleToBox', () => {
  it('maps the extremes to the edges of the box', () => {
    const s = scaleToBox(
      [
        [10, 100],
        [20, 200],
      ],
      300,
      120,
      6,
    )
    expect(s.x(10)).toBe(0)
    expect(s.x(20)).toBe(300)
    expect(s.x(15)).toBe(150)
    expect(s.y(200)).toBe(6)
    expect(s.y(100)).toBe(114)
  })
})
