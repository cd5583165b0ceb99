import { z } from 'zod'
import { HistoryPoint, Quote, Resolution } from '../../shared/quote.js'
import type { QuoteBatch } from './engine.js'

const QuoteBatchSchema = z.object({
  origin: z.string(),
  publishedAt: z.number().finite(),
  quotes: z.array(Quote),
  history: z.array(z.object({ asset: z.string(), resolution: Resolution, point: HistoryPoint })),
})

export function encodeBatch(batch: QuoteBatch): string {
  return JSON.stringify(batch)
}

/** A bus message from another node, validated; null when it is not a well-formed batch. */
export function decodeBatch(message: Buffer | string): QuoteBatch | null {
  try {
    const parsed = QuoteBatchSchema.safeParse(JSON.parse(message.toString()))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}
