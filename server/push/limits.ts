import type { Config } from '../config.js'

/** Every limit of the stream endpoint. From config.ws; the rest are built-in defaults (see PROTOCOL.md). */
export interface PushLimits {
  /** Largest inbound frame answered normally; a bigger one gets an error frame (frame_too_large). */
  maxPayload: number
  /** ws's own cap: a frame beyond it closes the socket with 1009. Above maxPayload by a margin. */
  hardMaxPayload: number
  maxSubscriptions: number
  /** Open connections per client address; 0 = no limit. */
  maxPerIp: number
  pingMs: number
  pongTimeoutMs: number
  /** Above this many bytes buffered on the socket, quote updates are conflated instead of written. */
  queueSoftBytes: number
  /** Above this many outgoing bytes (socket buffer + conflated updates) for slowGraceMs → close 4008. */
  queueHardBytes: number
  slowGraceMs: number
  /** Inbound message rate (token bucket): sustained rate and burst. */
  messagesPerSec: number
  messageBurst: number
  /** More bad frames than this within badFrameWindowMs → close 1008. */
  maxBadFrames: number
  badFrameWindowMs: number
  /** `*` or exact origins (scheme://host[:port]). */
  allowedOrigins: string[]
  /** On shutdown: how long clients get to answer the 1001 close before their sockets are cut. */
  closeWaitMs: number
}

const HARD_PAYLOAD_MARGIN = 64 * 1024

export function pushLimits(config: Config, overrides: Partial<PushLimits> = {}): PushLimits {
  const maxPayload = overrides.maxPayload ?? config.ws.maxPayload
  return {
    maxPayload,
    hardMaxPayload: maxPayload + HARD_PAYLOAD_MARGIN,
    maxSubscriptions: config.ws.maxSubscriptions,
    maxPerIp: config.ws.maxPerIp,
    pingMs: config.ws.pingMs,
    pongTimeoutMs: config.ws.pongTimeoutMs,
    queueSoftBytes: 64 * 1024,
    queueHardBytes: 1024 * 1024,
    slowGraceMs: 5_000,
    messagesPerSec: 20,
    messageBurst: 40,
    maxBadFrames: 10,
    badFrameWindowMs: 10_000,
    allowedOrigins: config.allowedOrigins,
    closeWaitMs: Math.min(2_000, Math.floor(config.shutdownMs / 2)),
    ...overrides,
  }
}
