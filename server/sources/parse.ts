import { z } from 'zod'
import { parseNumber, parsePrice } from '../../shared/numbers.js'
import { type SourceId, Tick } from '../../shared/quote.js'
import type { Metrics } from '../metrics.js'
import { type Candle, SourceError, type TickBatch } from './source.js'

/**
 * Shared helpers for turning exchange payloads into ticks and candles:
 * zod field schemas for numbers sent as strings, envelope validation (a bad envelope throws a
 * SourceError of kind 'schema'), and row validation that drops and counts bad rows.
 */

/** How many drop reasons a batch keeps, as a sample for the warning log. */
export const MAX_DROP_REASONS = 5

const scalar = z.union([z.string(), z.number()], { error: 'missing, or not a number or numeric string' })
const optionalScalar = z
  .union([z.string(), z.number(), z.null()], { error: 'not a number or numeric string' })
  .optional()

/** A value as it appears in a drop reason: JSON, cut short so one bad row cannot flood a log line. */
const show = (v: unknown): string => {
  const text = JSON.stringify(v) ?? String(v)
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}

/** A required price: a string or number that parses to a finite number > 0, else the row is invalid. */
export const priceField = scalar.transform((v, ctx) => {
  const n = parsePrice(v)
  if (n === null) ctx.addIssue({ code: 'custom', message: `not a positive finite price: ${show(v)}` })
  return n ?? 0
})

/** A required finite number (any sign), e.g. a candle field. */
export const numberField = scalar.transform((v, ctx) => {
  const n = parseNumber(v)
  if (n === null) ctx.addIssue({ code: 'custom', message: `not a finite number: ${show(v)}` })
  return n ?? 0
})

/** A required epoch timestamp (ms or s, as sent), as a non-negative integer. */
export const timeField = scalar.transform((v, ctx) => {
  const n = parseNumber(v)
  if (n === null || n < 0) ctx.addIssue({ code: 'custom', message: `not a timestamp: ${show(v)}` })
  return n === null || n < 0 ? 0 : Math.trunc(n)
})

/** An optional price: missing, empty, unparsable or ≤ 0 → null. A wrong type (object, boolean) is invalid. */
export const optionalPrice = optionalScalar.transform((v) => parsePrice(v))

/** An optional amount (volume): missing, unparsable or negative → null. */
export const optionalAmount = optionalScalar.transform((v) => {
  const n = parseNumber(v)
  return n !== null && n >= 0 ? n : null
})

/** An optional finite number of any sign (e.g. a change percent): missing or unparsable → null. */
export const optionalNumber = optionalScalar.transform((v) => parseNumber(v))

/** An optional epoch-ms timestamp: missing, unparsable or negative → null. */
export const optionalMs = optionalScalar.transform((v) => {
  const n = parseNumber(v)
  return n !== null && n >= 0 ? Math.trunc(n) : null
})

/** An ISO 8601 time → epoch ms; missing, null or unparsable → null. */
export const optionalIsoMs = z
  .string()
  .nullable()
  .optional()
  .transform((v) => {
    const ms = v ? Date.parse(v) : Number.NaN
    return Number.isFinite(ms) && ms >= 0 ? ms : null
  })

/** What an adapter's row schema produces: a tick without the fields every tick gets the same way. */
export type TickFields = Omit<Tick, 'source' | 'receivedAt'>

export interface RowsResult<T> {
  rows: T[]
  dropped: number
  dropReasons: string[]
}

/** Percent change from open to last, or null when there is no usable open. */
export function percentChange(last: number, open: number | null): number | null {
  if (open === null || !(open > 0)) return null
  const pct = ((last - open) / open) * 100
  return Number.isFinite(pct) ? pct : null
}

/** One zod error as a short line: "path: message". */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]
  if (!issue) return 'invalid'
  const path = issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''
  return `${path}${issue.message}`
}

/**
 * Validates a response envelope. A mismatch means the exchange changed its format (or sent an
 * error body with HTTP 200): a SourceError of kind 'schema', counted in metrics.sourceErrors.
 */
export function parseEnvelope<S extends z.ZodType>(
  source: SourceId,
  schema: S,
  body: unknown,
  what: string,
  metrics?: Metrics,
): z.output<S> {
  const result = schema.safeParse(body)
  if (!result.success) {
    metrics?.sourceErrors.inc({ source, kind: 'schema' })
    throw new SourceError(source, 'schema', `unexpected ${what} response: ${describeIssue(result.error)}`)
  }
  return result.data
}

/** The market name a raw row carries in `field`, when it is a string. */
export function rowMarket(row: unknown, field: string): string | undefined {
  if (typeof row !== 'object' || row === null) return undefined
  const v = (row as Record<string, unknown>)[field]
  return typeof v === 'string' ? v : undefined
}

/** The raw rows whose `field` names one of `markets`, first occurrence of each market only. */
export function selectRows(rows: readonly unknown[], markets: readonly string[], field: string): unknown[] {
  const wanted = new Set(markets)
  const seen = new Set<string>()
  const out: unknown[] = []
  for (const row of rows) {
    const market = rowMarket(row, field)
    if (market === undefined || !wanted.has(market) || seen.has(market)) continue
    seen.add(market)
    out.push(row)
  }
  return out
}

/**
 * Validates each row with `schema`. Invalid rows are dropped, counted in the result and in
 * metrics.sourceDroppedRows, with a sample of reasons ("<label>: <field>: <why>").
 */
export function parseRows<S extends z.ZodType>(
  source: SourceId,
  schema: S,
  rows: readonly unknown[],
  opts: { metrics?: Metrics | undefined; label?: (row: unknown, index: number) => string } = {},
): RowsResult<z.output<S>> {
  const out: RowsResult<z.output<S>> = { rows: [], dropped: 0, dropReasons: [] }
  rows.forEach((row, i) => {
    const result = schema.safeParse(row)
    if (result.success) {
      out.rows.push(result.data)
      return
    }
    recordDrop(out, opts.label ? opts.label(row, i) : `row ${i}`, describeIssue(result.error))
  })
  if (out.dropped > 0) opts.metrics?.sourceDroppedRows.inc({ source }, out.dropped)
  return out
}

/**
 * Validates ticker rows (already narrowed to the requested markets) with a schema that yields
 * TickFields, stamps source and receivedAt, and checks each result against the Tick schema so no
 * NaN, infinite or non-positive price can ever leave an adapter. `marketField` labels drop reasons.
 */
export function parseTickRows(
  source: SourceId,
  schema: z.ZodType<TickFields, unknown>,
  rows: readonly unknown[],
  opts: { metrics?: Metrics | undefined; receivedAt?: number; marketField?: string } = {},
): TickBatch {
  const receivedAt = opts.receivedAt ?? Date.now()
  const field = opts.marketField ?? 'symbol'
  const batch: TickBatch = { ticks: [], dropped: 0, dropReasons: [] }
  rows.forEach((row, i) => {
    const label = rowMarket(row, field) ?? `row ${i}`
    const fields = schema.safeParse(row)
    if (!fields.success) {
      recordDrop(batch, label, describeIssue(fields.error))
      return
    }
    const tick = Tick.safeParse({ ...fields.data, source, receivedAt })
    if (!tick.success) {
      recordDrop(batch, label, describeIssue(tick.error))
      return
    }
    batch.ticks.push(tick.data)
  })
  if (batch.dropped > 0) opts.metrics?.sourceDroppedRows.inc({ source }, batch.dropped)
  return batch
}

function recordDrop(into: { dropped: number; dropReasons: string[] }, label: string, reason: string): void {
  into.dropped++
  if (into.dropReasons.length < MAX_DROP_REASONS) into.dropReasons.push(`${label}: ${reason}`)
}

/**
 * A candle row laid out [openTime ms, open, high, low, close, baseVolume, ...] (Binance, OKX,
 * Bybit, MEXC); extra trailing fields are ignored.
 */
export const ohlcvRow = z
  .tuple([timeField, priceField, priceField, priceField, priceField, optionalAmount])
  .rest(z.unknown())
  .transform(
    ([ts, open, high, low, close, baseVolume]): Candle => ({ ts, open, high, low, close, baseVolume }),
  )

/**
 * Validates candle rows with `schema` (bad rows dropped and counted like ticker rows), then returns
 * at most the `limit` newest, oldest first, one per timestamp, whatever order the exchange used.
 */
export function parseCandleRows(
  source: SourceId,
  schema: z.ZodType<Candle, unknown>,
  rows: readonly unknown[],
  limit: number,
  metrics?: Metrics,
): Candle[] {
  const { rows: candles } = parseRows(source, schema, rows, { metrics, label: (_row, i) => `candle ${i}` })
  const byTs = new Map<number, Candle>()
  for (const c of candles) if (!byTs.has(c.ts)) byTs.set(c.ts, c)
  const sorted = [...byTs.values()].sort((a, b) => a.ts - b.ts)
  return limit > 0 ? sorted.slice(-limit) : []
}

/** `limit` as an integer within [1, max]. */
export function clampLimit(limit: number, max: number): number {
  if (!Number.isFinite(limit)) return max
  return Math.min(max, Math.max(1, Math.trunc(limit)))
}
