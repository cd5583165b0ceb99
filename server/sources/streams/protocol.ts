import type { ExchangeId } from '../../../shared/quote.js'
import type { Metrics } from '../../metrics.js'
import type { TickBatch } from '../source.js'

/** Why a pushed message was dropped. */
export type DropReason = 'invalid_json' | 'schema'

/** What one text frame from an exchange stream means. */
export type StreamFrame =
  /** A ticker push: its valid ticks (malformed rows already dropped and counted). */
  | { kind: 'ticks'; batch: TickBatch }
  /** The exchange says the feed is alive although no price changed (Kraken, Coinbase heartbeats). */
  | { kind: 'heartbeat' }
  /** The answer to our application-level ping. */
  | { kind: 'pong' }
  /** A subscription was confirmed. */
  | { kind: 'subscribed' }
  /** The exchange asks for a new connection (Binance serverShutdown, OKX service-upgrade notice). */
  | { kind: 'reconnect'; reason: string }
  /** The exchange refused a request of ours (e.g. an unknown market). */
  | { kind: 'rejected'; reason: string }
  /** Well-formed, of no interest. */
  | { kind: 'ignored' }
  /** Malformed: dropped and counted, never a crash. */
  | { kind: 'invalid'; reason: DropReason; detail: string }

/**
 * One exchange's stream format and rules: where to connect, how to subscribe within its limits,
 * how to keep the connection alive, and how to read what it pushes.
 */
export interface StreamProtocol {
  readonly source: ExchangeId
  /** The exchange's public stream URL. */
  readonly defaultUrl: string
  /** Most markets one connection carries (the exchange's per-connection limits, with a margin). */
  readonly maxMarketsPerConnection: number
  /** Least time between two messages we send on one connection (the exchange's inbound rate limit). */
  readonly sendGapMs: number
  /** Least time between opening two connections of one source (per-IP connection rate limits). */
  readonly connectGapMs: number
  /** How often a healthy feed sends data (prices or heartbeats): the silence deadline is a multiple of it. */
  readonly expectedIntervalMs: number
  /** The exchange closes connections after this long: they are replaced before it. */
  readonly lifetimeMs?: number
  /** An application-level ping the exchange expects from us every intervalMs. */
  readonly ping?: { intervalMs: number; message: () => string }
  /** The exchange's name for one of our market names, or undefined when it cannot be streamed. */
  streamName(market: string): string | undefined
  /** The subscribe messages for one connection's markets, each within the per-message limits. */
  subscribeMessages(markets: readonly string[]): string[]
  /** Decodes one text frame, validating it. Never throws. */
  decode(text: string, receivedAt: number, metrics?: Metrics): StreamFrame
}

/** Splits a list into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** JSON.parse that reports failure instead of throwing. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

/** A frame that is not what the exchange documents. */
export const invalid = (reason: DropReason, detail: string): StreamFrame => ({
  kind: 'invalid',
  reason,
  detail: detail.length > 120 ? `${detail.slice(0, 120)}…` : detail,
})
