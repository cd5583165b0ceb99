/** Small statistics for benchmark samples. */

export function median(xs: readonly number[]): number {
  return percentile(xs, 50)
}

/** Percentile (0-100) by linear interpolation between closest ranks; NaN for no samples. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN
  const sorted = [...xs].sort((a, b) => a - b)
  const rank = (p / 100) * (sorted.length - 1)
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo)
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  return xs.reduce((s, x) => s + x, 0) / xs.length
}

export function sum(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0)
}

/** Per-round ratios a[i] / b[i] (rounds alternate A B, so each pair shares the machine's state). */
export function ratios(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = []
  for (let i = 0; i < Math.min(a.length, b.length); i++) out.push(a[i]! / b[i]!)
  return out
}

export function medianRatio(a: readonly number[], b: readonly number[]): number {
  return median(ratios(a, b))
}

/** Rounds for display and JSON: 3 significant digits for small values, integers for large ones. */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x
  if (Math.abs(x) >= 100) return Math.round(x)
  const f = 10 ** Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(x) || 1)))
  return Math.round(x * f) / f
}

/** Compact histogram as it crosses process boundaries: sparse [bucket, count] pairs. */
export interface HistogramData {
  /** Bucket width in ms. */
  resolution: number
  buckets: [number, number][]
  count: number
  sum: number
  max: number
}

/**
 * Latency histogram in milliseconds: fixed 0.1 ms buckets up to 30 s (values above land in the
 * last bucket, max keeps the true value). Mergeable across client processes.
 */
export class LatencyHistogram {
  static readonly resolution = 0.1
  private static readonly size = 300_001
  private readonly counts = new Uint32Array(LatencyHistogram.size)
  count = 0
  total = 0
  max = 0

  record(ms: number): void {
    const v = Math.max(ms, 0)
    const i = Math.min(LatencyHistogram.size - 1, Math.round(v / LatencyHistogram.resolution))
    this.counts[i]!++
    this.count++
    this.total += v
    if (v > this.max) this.max = v
  }

  reset(): void {
    this.counts.fill(0)
    this.count = 0
    this.total = 0
    this.max = 0
  }

  merge(data: HistogramData): this {
    for (const [i, c] of data.buckets) this.counts[i] = this.counts[i]! + c
    this.count += data.count
    this.total += data.sum
    this.max = Math.max(this.max, data.max)
    return this
  }

  /** Value at percentile p (0-100), in ms; NaN when empty. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN
    const target = Math.max(1, Math.ceil((p / 100) * this.count))
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!
      if (seen >= target) return Math.min(i * LatencyHistogram.resolution, this.max)
    }
    return this.max
  }

  mean(): number {
    return this.count ? this.total / this.count : Number.NaN
  }

  toData(): HistogramData {
    const buckets: [number, number][] = []
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]) buckets.push([i, this.counts[i]!])
    return {
      resolution: LatencyHistogram.resolution,
      buckets,
      count: this.count,
      sum: this.total,
      max: this.max,
    }
  }
}
