import type { FastifyPluginAsync, onResponseHookHandler } from 'fastify'
import type { PluginOptions } from '../context.js'
import type { Metrics } from '../metrics.js'
import type { HistogramSeries } from '../route-histogram.js'

interface Pending {
  labels: { method: string; route: string; status: number }
  count: number
}

interface RouteStats {
  route: string
  /** method → status → requests since the last flush */
  counts: Map<string, Map<number, Pending>>
  /** method → the duration histogram's child for this route */
  durations: Map<string, HistogramSeries>
}

/** Flushes per registry, so /metrics can bring the request counter up to date before a scrape. */
const flushers = new WeakMap<Metrics, () => void>()

/** Applies the request counts gathered since the last flush (the counter is otherwise up to 1 s behind). */
export function flushHttpMetrics(metrics: Metrics): void {
  flushers.get(metrics)?.()
}

/**
 * Request count and duration per route pattern (never the raw URL: random paths must not grow the
 * label set). Registered without encapsulation before any route, so every route is measured.
 * Counts are summed locally and added to the counter once a second (and before every scrape):
 * a prom-client label lookup per request is one of the larger costs of a cached read.
 */
export const httpMetrics: FastifyPluginAsync<PluginOptions> = async (app, { ctx }) => {
  const { httpRequests, httpDuration } = ctx.metrics
  const routes = new Map<string, RouteStats>()

  /** One route's figures, looked up by method and status without building a key per request. */
  const statsOf = (route: string): RouteStats => {
    let stats = routes.get(route)
    if (stats === undefined) {
      stats = { route, counts: new Map(), durations: new Map() }
      routes.set(route, stats)
    }
    return stats
  }

  const flush = () => {
    for (const stats of routes.values()) {
      for (const byStatus of stats.counts.values()) {
        for (const p of byStatus.values()) {
          if (p.count > 0) httpRequests.inc(p.labels, p.count)
          p.count = 0
        }
      }
    }
  }
  flushers.set(ctx.metrics, flush)
  const timer = setInterval(flush, 1_000)
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    flush()
  })

  const record = (stats: RouteStats, method: string, status: number, elapsedMs: number) => {
    let byStatus = stats.counts.get(method)
    if (byStatus === undefined) {
      byStatus = new Map()
      stats.counts.set(method, byStatus)
    }
    let p = byStatus.get(status)
    if (p === undefined) {
      p = { labels: { method, route: stats.route, status }, count: 0 }
      byStatus.set(status, p)
    }
    p.count++
    let observer = stats.durations.get(method)
    if (observer === undefined) {
      observer = httpDuration.labels({ method, route: stats.route })
      stats.durations.set(method, observer)
    }
    observer.observe(elapsedMs / 1000)
  }

  // Each route gets its own onResponse hook that knows its pattern, so no request pays for
  // `req.routeOptions` (a new object on every read) to learn it.
  app.addHook('onRoute', (route) => {
    const stats = statsOf(route.url ?? 'unmatched')
    const hook: onResponseHookHandler = (req, reply, done) => {
      record(stats, req.method, reply.statusCode, reply.elapsedTime)
      done()
    }
    const existing = route.onResponse
    route.onResponse =
      existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook]
  })
  // Requests no route matched (the not-found handler answers them): one cheap check for the rest.
  const unmatched = statsOf('unmatched')
  app.addHook('onResponse', (req, reply, done) => {
    if (req.is404) record(unmatched, req.method, reply.statusCode, reply.elapsedTime)
    done()
  })
}
Object.assign(httpMetrics, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'pricewire-http-metrics',
})
