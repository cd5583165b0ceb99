/**
 * JSON.stringify, then characters that mean something to an HTML parser or reorder text on screen
 * (<, >, &, line/paragraph separators, bidi controls) written as \u escapes. The JSON value is the
 * same; the bytes can no longer be read as markup even by a client that sniffs content types.
 */
const UNSAFE = /[<>&\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, escapeChar)
}

function escapeChar(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
}
