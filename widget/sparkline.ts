/** A history point as the server sends it: [epoch ms, price]. */
export type Point = readonly [number, number]

/** Maps data to SVG user units: time on x, price on y (higher price = smaller y). */
export interface Scale {
  x(t: number): number
  y(price: number): number
}

/**
 * Fits points into a width × height box, keeping `pad` units free at the top and bottom so a
 * stroke is never clipped. A flat series sits on the middle line; a single point spans the width.
 */
export function scaleToBox(points: readonly Point[], width: number, height: number, pad = 1): Scale {
  let t0 = Number.POSITIVE_INFINITY
  let t1 = Number.NEGATIVE_INFINITY
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  for (const [t, p] of points) {
    t0 = Math.min(t0, t)
    t1 = Math.max(t1, t)
    lo = Math.min(lo, p)
    hi = Math.max(hi, p)
  }
  const span = t1 - t0
  const range = hi - lo
  return {
    x: (t) => (span > 0 ? ((t - t0) / span) * width : width / 2),
    y: (p) => (range > 0 ? pad + ((hi - p) / range) * (height - 2 * pad) : height / 2),
  }
}

const round = (n: number) => Math.round(n * 100) / 100

/** The SVG path (`d`) of a line through the points, oldest first; '' when there are none. */
export function linePath(points: readonly Point[], width: number, height: number, pad = 1): string {
  if (!points.length) return ''
  const s = scaleToBox(points, width, height, pad)
  if (points.length === 1) {
    const y = round(s.y(points[0]![1]))
    return `M0,${y}H${width}`
  }
  return points.map(([t, p], i) => `${i ? 'L' : 'M'}${round(s.x(t))},${round(s.y(p))}`).join('')
}

/** The line closed down to the bottom edge: the filled area under it (the line spans 0…width). */
export function areaPath(points: readonly Point[], width: number, height: number, pad = 1): string {
  const line = linePath(points, width, height, pad)
  return line && `${line}V${height}H0Z`
}
