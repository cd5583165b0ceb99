import type { ErrorCode } from '../../shared/protocol.js'

/**
 * Server frames, built by string concatenation of JSON fragments that were serialised once
 * (a quote is stringified once per update, however many clients get it). Asset ids are
 * [a-z0-9-] only, so they need no escaping as object keys.
 */

const QUOTES_HEAD = '{"type":"quotes","quotes":['
const SNAPSHOT_HEAD = '{"type":"snapshot","quotes":['

export const PONG_FRAME = Buffer.from('{"type":"pong"}')

/** A quotes frame of the fragments whose bit is set in mask (bit i = fragments[i]), as bytes to share. */
export function quotesFrameOf(fragments: readonly string[], mask: number): Buffer {
  let body = ''
  let bit = 1
  for (let i = 0; i < fragments.length; i++, bit *= 2) {
    // mask < 2^53, so % and division by powers of two are exact.
    if (Math.floor(mask / bit) % 2 === 1) body = body === '' ? fragments[i]! : `${body},${fragments[i]!}`
  }
  return Buffer.from(`${QUOTES_HEAD}${body}]}`)
}

/** A quotes frame of every fragment given (a conflated flush). */
export function quotesFrame(fragments: Iterable<string>): string {
  return `${QUOTES_HEAD}${[...fragments].join(',')}]}`
}

/** history: asset → JSON array of points, already serialised. */
export function snapshotFrame(
  quoteFragments: readonly string[],
  history?: ReadonlyMap<string, string>,
): string {
  let frame = `${SNAPSHOT_HEAD}${quoteFragments.join(',')}]`
  if (history) {
    const parts: string[] = []
    for (const [asset, points] of history) parts.push(`"${asset}":${points}`)
    frame += `,"history":{${parts.join(',')}}`
  }
  return `${frame}}`
}

export function historyFrame(asset: string, point: readonly [number, number]): Buffer {
  return Buffer.from(JSON.stringify({ type: 'history', asset, point }))
}

export function errorFrame(code: ErrorCode, message: string, assets?: readonly string[]): string {
  return JSON.stringify(assets ? { type: 'error', code, message, assets } : { type: 'error', code, message })
}
