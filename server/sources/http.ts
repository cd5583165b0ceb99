import { Pool, errors as undiciErrors } from 'undici'
import type { SourceId } from '../../shared/quote.js'
import type { Metrics } from '../metrics.js'
import { SourceError } from './source.js'

export interface HttpClientOptions {
  source: SourceId
  /** scheme://host:port; the exchange's real paths follow. */
  baseUrl: string
  timeoutMs: number
  /** Concurrent connections kept alive to this exchange. */
  connections?: number
  metrics?: Metrics
  headers?: Record<string, string>
}

const MAX_BODY_BYTES = 16 * 1024 * 1024

/**
 * One keep-alive undici pool per exchange. `getJson` returns the parsed body or throws a
 * SourceError whose kind says what went wrong (timeout, network, http, rate_limited, invalid_json).
 */
export class HttpClient {
  private readonly pool: Pool
  private readonly basePath: string

  constructor(private readonly opts: HttpClientOptions) {
    const url = new URL(opts.baseUrl)
    this.basePath = url.pathname.replace(/\/+$/, '')
    this.pool = new Pool(url.origin, {
      connections: opts.connections ?? 4,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connectTimeout: opts.timeoutMs,
    })
  }

  /** GET path?query, parsed as JSON. `endpoint` labels the request in metrics (e.g. "tickers"). */
  async getJson(
    path: string,
    query: Record<string, string | number> = {},
    endpoint = 'other',
  ): Promise<unknown> {
    const { source, metrics } = this.opts
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString()
    const fullPath = `${this.basePath}${path}${qs ? `?${qs}` : ''}`
    metrics?.sourceRequests.inc({ source, endpoint })
    const stopTimer = metrics?.sourceLatency.startTimer({ source })
    try {
      const res = await this.pool.request({
        method: 'GET',
        path: fullPath,
        headers: { accept: 'application/json', 'user-agent': 'pricewire/0.1', ...this.opts.headers },
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      })
      const text = await readCapped(res.body, MAX_BODY_BYTES)
      if (res.statusCode === 429 || res.statusCode === 418) {
        throw new SourceError(
          source,
          'rate_limited',
          `HTTP ${res.statusCode} on ${path}`,
          res.statusCode,
          parseRetryAfter(res.headers['retry-after']),
        )
      }
      if (res.statusCode < 200 || res.statusCode >= 300) {
        throw new SourceError(source, 'http', `HTTP ${res.statusCode} on ${path}`, res.statusCode)
      }
      try {
        return JSON.parse(text)
      } catch {
        throw new SourceError(source, 'invalid_json', `invalid JSON from ${path}: ${text.slice(0, 80)}`)
      }
    } catch (err) {
      const error = toSourceError(source, path, err)
      metrics?.sourceErrors.inc({ source, kind: error.kind })
      throw error
    } finally {
      stopTimer?.()
    }
  }

  async close(): Promise<void> {
    await this.pool.close()
  }
}

async function readCapped(body: AsyncIterable<Buffer | Uint8Array>, max: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > max) throw new Error(`response larger than ${max} bytes`)
    chunks.push(Buffer.from(chunk))
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Retry-After in ms: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (!v) return undefined
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000)
  const date = Date.parse(v)
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined
}

function toSourceError(source: SourceId, path: string, err: unknown): SourceError {
  if (err instanceof SourceError) return err
  const e = err as { name?: string; code?: string; message?: string }
  if (
    e.name === 'TimeoutError' ||
    e.name === 'AbortError' ||
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError
  ) {
    return new SourceError(source, 'timeout', `timeout on ${path}`)
  }
  return new SourceError(
    source,
    'network',
    `${e.code ?? e.name ?? 'error'} on ${path}: ${e.message ?? String(err)}`,
  )
}
