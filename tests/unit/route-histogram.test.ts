import { Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { RouteHistogram } from '../../server/route-histogram.js'

const BOUNDS = [0.001, 0.01, 0.1]

/** The lines of one metric in the text exposition, with its name replaced by `m`. */
async function lines(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.metrics()
  return text
    .split('\n')
    .filter((l) => l.includes(name))
    .map((l) => l.replaceAll(name, 'm'))
}

describe('RouteHistogram', () => {
  it('exposes exactly what a prom-client Histogram exposes for the same observations', async () => {
    const ours = new Registry()
    const theirs = new Registry()
    const h = new RouteHistogram('ours_seconds', 'request duration', BOUNDS, ours)
    const p = new Histogram({
      name: 'theirs_seconds',
      help: 'request duration',
      labelNames: ['method', 'route'],
      buckets: BOUNDS,
      registers: [theirs],
    })
    const observations: [string, string, number][] = [
      ['GET', '/v1/quotes', 0.0004],
      ['GET', '/v1/quotes', 0.001],
      ['GET', '/v1/quotes', 0.05],
      ['GET', '/v1/quotes', 3],
      ['HEAD', '/v1/quotes', 0.002],
      ['GET', 'unmatched', 0.0001],
    ]
    for (const [method, route, v] of observations) {
      h.labels({ method, route }).observe(v)
      p.labels({ method, route }).observe(v)
    }
    expect(await lines(ours, 'ours_seconds')).toEqual(await lines(theirs, 'theirs_seconds'))
    const get = (await lines(ours, 'ours_seconds')).join('\n')
    expect(get).toContain('m_bucket{le="0.001",method="GET",route="/v1/quotes"} 2')
    expect(get).toContain('m_bucket{le="+Inf",method="GET",route="/v1/quotes"} 4')
    expect(get).toContain('m_count{method="GET",route="/v1/quotes"} 4')
    expect(get).toContain('# TYPE m histogram')
  })

  it('keeps one series per label set and ignores values that are not finite', async () => {
    const registry = new Registry()
    const h = new RouteHistogram('x_seconds', 'x', BOUNDS, registry)
    const a = h.labels({ route: '/a' })
    expect(h.labels({ route: '/a' })).toBe(a)
    a.observe(Number.NaN)
    a.observe(Number.POSITIVE_INFINITY)
    a.observe(0.005)
    const json = await registry.getMetricsAsJSON()
    const values = json.find((m) => m.name === 'x_seconds')?.values ?? []
    expect(values.find((v) => (v as { metricName?: string }).metricName === 'x_seconds_count')?.value).toBe(1)
    h.reset()
    expect(await lines(registry, 'x_seconds_count')).toEqual([])
  })
})
