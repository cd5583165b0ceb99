import type { Registry } from 'prom-client'

type Labels = Readonly<Record<string, string | number>>

/** A sample as prom-client's registry formats it. */
interface Sample {
  metricName: string
  labels: Labels
  value: number
}

/** One label set's figures: a count per bucket (not cumulative), their sum and total. */
export interface HistogramSeries {
  observe(value: number): void
}

class Series implements HistogramSeries {
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return
    const { bounds } = this
    let i = 0
    while (i < bounds.length && value > bounds[i]!) i++
    this.counts[i]!++
    this.sum += value
    this.count++
  }
}

/**
 * A Prometheus histogram for hot paths: a series is looked up once and kept by the caller, and
 * observing is a bucket search and three additions. prom-client's own Histogram hashes and
 * validates the label set on every observation, about 3 µs per request in profiles, the largest
 * item of our own code in a cached REST read (BENCHMARKS.md). It registers on a prom-client
 * registry like any metric and exposes the same text: cumulative `_bucket{le}` lines, `_sum` and
 * `_count`.
 */
export class RouteHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly series = new Map<string, Series>()

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never)
  }

  /** The series of one label set; keep it, and observe on it. */
  labels(labels: Record<string, string | number>): HistogramSeries {
    const key = JSON.stringify(labels)
    let s = this.series.get(key)
    if (s === undefined) {
      s = new Series({ ...labels }, this.bounds)
      this.series.set(key, s)
    }
    return s
  }

  /** The exposition, as prom-client's registry reads it from any metric. */
  get(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] } {
    const values: Sample[] = []
    for (const s of this.series.values()) {
      let cumulative = 0
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += s.counts[i]!
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: i < this.bounds.length ? this.bounds[i]! : '+Inf', ...s.labels },
          value: cumulative,
        })
      }
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum })
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {
    this.series.clear()
  }
}
