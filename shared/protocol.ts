import { z } from 'zod'
import { AssetId, HistoryPoint, HistoryWindow, Quote } from './quote.js'

/** WebSocket protocol of /v1/stream: JSON text frames. See PROTOCOL.md. */

export const SubscribeMessage = z.object({
  op: z.literal('subscribe'),
  assets: z.array(z.string().max(64)).min(1).max(100),
  history: HistoryWindow.optional(),
})
export const UnsubscribeMessage = z.object({
  op: z.literal('unsubscribe'),
  assets: z.array(z.string().max(64)).min(1).max(100),
})
export const PingMessage = z.object({ op: z.literal('ping') })

export const ClientMessage = z.discriminatedUnion('op', [SubscribeMessage, UnsubscribeMessage, PingMessage])
export type ClientMessage = z.infer<typeof ClientMessage>
export type SubscribeMessage = z.infer<typeof SubscribeMessage>
export type UnsubscribeMessage = z.infer<typeof UnsubscribeMessage>

export const ERROR_CODES = [
  'invalid_json',
  'invalid_message',
  'unknown_op',
  'unknown_assets',
  'too_many_subscriptions',
  'frame_too_large',
  'rate_limited',
] as const
export const ErrorCode = z.enum(ERROR_CODES)
export type ErrorCode = z.infer<typeof ErrorCode>

export const SnapshotFrame = z.object({
  type: z.literal('snapshot'),
  quotes: z.array(Quote),
  history: z.record(AssetId, z.array(HistoryPoint)).optional(),
})
export const QuotesFrame = z.object({ type: z.literal('quotes'), quotes: z.array(Quote) })
export const HistoryFrame = z.object({ type: z.literal('history'), asset: AssetId, point: HistoryPoint })
export const ErrorFrame = z.object({
  type: z.literal('error'),
  code: ErrorCode,
  message: z.string(),
  assets: z.array(z.string()).optional(),
})
export const PongFrame = z.object({ type: z.literal('pong') })

export const ServerFrame = z.discriminatedUnion('type', [
  SnapshotFrame,
  QuotesFrame,
  HistoryFrame,
  ErrorFrame,
  PongFrame,
])
export type ServerFrame = z.infer<typeof ServerFrame>
export type SnapshotFrame = z.infer<typeof SnapshotFrame>
export type QuotesFrame = z.infer<typeof QuotesFrame>
export type HistoryFrame = z.infer<typeof HistoryFrame>
export type ErrorFrame = z.infer<typeof ErrorFrame>

/** WebSocket close codes the server uses. */
export const CLOSE_CODES = {
  goingAway: 1001,
  policyViolation: 1008,
  slowConsumer: 4008,
  tooManyConnections: 4029,
} as const
