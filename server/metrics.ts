import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { RouteHistogram } from './route-histogram.js'

/**
 * Every Prometheus metric of one server instance, on its own registry (not prom-client's global
 * one) so that several instances can live in one process, as they do in tests.
 */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'pricewire_process_' })
  const r = [registry]
  return {
    registry,
    // HTTP
    httpRequests: new Counter({
      name: 'pricewire_http_requests_total',
      help: 'HTTP requests by route and status code',
      labelNames: ['method', 'route', 'status'] as const,
      registers: r,
    }),
    // Observed on every request: a histogram without per-observation label hashing.
    httpDuration: new RouteHistogram(
      'pricewire_http_request_duration_seconds',
      'HTTP request duration by route',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registry,
    ),
    // Engine
    engineReady: new Gauge({
      name: 'pricewire_engine_ready',
      help: '1 when the engine store is reachable',
      labelNames: ['engine'] as const,
      registers: r,
    }),
    engineErrors: new Counter({
      name: 'pricewire_engine_errors_total',
      help: 'Engine operations that failed, by operation',
      labelNames: ['op'] as const,
      registers: r,
    }),
    isLeader: new Gauge({
      name: 'pricewire_leader',
      help: '1 while this node holds the poller lock',
      registers: r,
    }),
    // Sources
    sourceRequests: new Counter({
      name: 'pricewire_source_requests_total',
      help: 'Requests sent to each source, by endpoint kind',
      labelNames: ['source', 'endpoint'] as const,
      registers: r,
    }),
    sourceErrors: new Counter({
      name: 'pricewire_source_errors_total',
      help: 'Failed source requests by kind (timeout, network, http, rate_limited, invalid_json, schema)',
      labelNames: ['source', 'kind'] as const,
      registers: r,
    }),
    sourceDroppedRows: new Counter({
      name: 'pricewire_source_dropped_rows_total',
      help: 'Malformed rows dropped from source responses (never published)',
      labelNames: ['source'] as const,
      registers: r,
    }),
    sourceLatency: new Histogram({
      name: 'pricewire_source_request_duration_seconds',
      help: 'Source request latency',
      labelNames: ['source'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    sourceLastSuccess: new Gauge({
      name: 'pricewire_source_last_success_timestamp_seconds',
      help: 'Unix time of the last successful poll per source',
      labelNames: ['source'] as const,
      registers: r,
    }),
    sourceBreakerOpen: new Gauge({
      name: 'pricewire_source_breaker_open',
      help: '1 while the circuit breaker of a source is open',
      labelNames: ['source'] as const,
      registers: r,
    }),
    // Exchange WebSocket streams
    streamHealthy: new Gauge({
      name: 'pricewire_stream_healthy',
      help: '1 while the live stream of a source delivers (its REST polling is slowed to reconciliation)',
      labelNames: ['source'] as const,
      registers: r,
    }),
    streamTicks: new Counter({
      name: 'pricewire_stream_ticks_total',
      help: 'Valid ticks received from exchange streams',
      labelNames: ['source'] as const,
      registers: r,
    }),
    streamDropped: new Counter({
      name: 'pricewire_stream_dropped_messages_total',
      help: 'Malformed stream messages dropped, by reason (invalid_json, schema); bad rows count in source_dropped_rows',
      labelNames: ['source', 'reason'] as const,
      registers: r,
    }),
    streamReconnects: new Counter({
      name: 'pricewire_stream_reconnects_total',
      help: 'Stream connections replaced, by reason (closed, error, idle, no_pong, silent, lifetime, server_notice)',
      labelNames: ['source', 'reason'] as const,
      registers: r,
    }),
    streamConnections: new Gauge({
      name: 'pricewire_stream_connections',
      help: 'Open exchange stream connections per source (a replacement being brought up counts too)',
      labelNames: ['source'] as const,
      registers: r,
    }),
    streamMessages: new Counter({
      name: 'pricewire_stream_messages_total',
      help: 'Frames received from exchange streams (prices, acks, pongs, heartbeats, malformed)',
      labelNames: ['source'] as const,
      registers: r,
    }),
    outliersRejected: new Counter({
      name: 'pricewire_outliers_rejected_total',
      help: 'Source prices rejected as outliers during aggregation',
      labelNames: ['source'] as const,
      registers: r,
    }),
    // WebSocket
    wsConnections: new Gauge({
      name: 'pricewire_ws_connections',
      help: 'Open WebSocket connections',
      registers: r,
    }),
    wsSubscriptions: new Gauge({
      name: 'pricewire_ws_subscriptions',
      help: 'Asset subscriptions across all connections',
      registers: r,
    }),
    wsMessagesSent: new Counter({
      name: 'pricewire_ws_messages_sent_total',
      help: 'Frames sent',
      registers: r,
    }),
    wsBytesSent: new Counter({
      name: 'pricewire_ws_bytes_sent_total',
      help: 'Bytes sent in frames',
      registers: r,
    }),
    wsConflated: new Counter({
      name: 'pricewire_ws_conflated_updates_total',
      help: 'Quote updates replaced by a newer one before a slow client could take them',
      registers: r,
    }),
    wsSlowConsumerCloses: new Counter({
      name: 'pricewire_ws_slow_consumer_closes_total',
      help: 'Connections closed with 4008 slow consumer',
      registers: r,
    }),
    wsErrorsSent: new Counter({
      name: 'pricewire_ws_error_frames_total',
      help: 'Error frames sent, by code',
      labelNames: ['code'] as const,
      registers: r,
    }),
    wsRejected: new Counter({
      name: 'pricewire_ws_rejected_total',
      help: 'WebSocket upgrades refused, by reason',
      labelNames: ['reason'] as const,
      registers: r,
    }),
    busLag: new Histogram({
      name: 'pricewire_bus_lag_seconds',
      help: 'Time from publish on the bus to delivery on this node',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: r,
    }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>
