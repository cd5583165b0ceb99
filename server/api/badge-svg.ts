/**
 * A shields-style SVG badge (label | value | … boxes), built as a string with no dependencies:
 * it is served to READMEs and e-mails, where no JavaScript runs. Every piece of text is cleaned
 * (control, bidi-override and unpaired surrogate characters removed) and XML-escaped, so a
 * registry name such as `</svg><script>` can only ever be text.
 */

export interface BadgeBox {
  text: string
  /** Background colour, #rgb or #rrggbb. */
  fill: string
}

export interface BadgeSpec {
  /** Accessible name: <title> and aria-label. */
  title: string
  boxes: BadgeBox[]
  /** Text colour and shadow for the theme. */
  ink: { text: string; shadow: string }
}

const HEIGHT = 20
const PAD = 6
const FONT = 'Verdana,Geneva,DejaVu Sans,sans-serif'
const MAX_TEXT = 64
const COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i

// C0/C1 controls, bidi embeddings/overrides/isolates/marks, BOM, non-characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is this pattern's job
const STRIP = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]/g
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** Text fit for a badge: no invisible or direction-changing characters, at most `max` characters. */
export function cleanText(text: string, max = MAX_TEXT): string {
  const cleaned = text.replace(LONE_SURROGATE, '\ufffd').replace(/\s+/g, ' ').replace(STRIP, '').trim()
  const chars = [...cleaned]
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : cleaned
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

/**
 * Width in px of text in 11px Verdana, estimated per character class (no font library, no
 * measuring): close enough to size the boxes, and `textLength` squeezes the glyphs to fit anyway.
 */
export function textWidth(text: string): number {
  let width = 0
  for (const ch of text) width += charWidth(ch)
  return width
}

function charWidth(ch: string): number {
  const c = ch.codePointAt(0)!
  if (c >= 0x30 && c <= 0x39) return 7
  if (c >= 0x61 && c <= 0x7a) return 'fijlrt'.includes(ch) ? 3.8 : 'mw'.includes(ch) ? 9.8 : 6.8
  if (c >= 0x41 && c <= 0x5a) return 'IJ'.includes(ch) ? 4.6 : 'MW'.includes(ch) ? 10 : 7.6
  if (c === 0x20) return 3.9
  if (c < 0x80)
    return ".,:;!|'`".includes(ch) ? 3.9 : '%@#&'.includes(ch) ? 10 : '+=<>~'.includes(ch) ? 9.2 : 5.8
  if (c >= 0x300 && c <= 0x36f) return 0 // combining marks
  if (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    c >= 0x1f300
  )
    return 11 // wide: CJK, Hangul, fullwidth forms, emoji
  if (c === 0x2014 || c === 0x2026) return 11
  return 7.2
}

const round1 = (n: number) => Math.round(n * 10) / 10

export function renderBadge(spec: BadgeSpec): string {
  const ink = { text: safeColor(spec.ink.text, '#fff'), shadow: safeColor(spec.ink.shadow, '#010101') }
  let x = 0
  const boxes = spec.boxes.map((box) => {
    const text = cleanText(box.text)
    const textW = round1(Math.max(1, textWidth(text)))
    const w = Math.ceil(textW + 2 * PAD)
    const placed = { x, w, text, textW, fill: safeColor(box.fill, '#555') }
    x += w
    return placed
  })
  const width = x
  const title = escapeXml(cleanText(spec.title, 200))
  const rects = boxes
    .map((b) => `<rect x="${b.x}" width="${b.w}" height="${HEIGHT}" fill="${b.fill}"/>`)
    .join('')
  const texts = boxes
    .map((b) => {
      const cx = round1(b.x + b.w / 2)
      const fit = `textLength="${b.textW}" lengthAdjust="spacingAndGlyphs"`
      const t = escapeXml(b.text)
      return (
        `<text x="${cx}" y="15" fill="${ink.shadow}" fill-opacity=".3" ${fit} aria-hidden="true">${t}</text>` +
        `<text x="${cx}" y="14" ${fit}>${t}</text>`
      )
    })
    .join('')
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${HEIGHT}" viewBox="0 0 ${width} ${HEIGHT}" role="img" aria-label="${title}">` +
    `<title>${title}</title>` +
    `<linearGradient id="pw-gloss" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>` +
    `<clipPath id="pw-round"><rect width="${width}" height="${HEIGHT}" rx="3" fill="#fff"/></clipPath>` +
    `<g clip-path="url(#pw-round)">${rects}<rect width="${width}" height="${HEIGHT}" fill="url(#pw-gloss)"/></g>` +
    `<g fill="${ink.text}" text-anchor="middle" font-family="${FONT}" font-size="11" direction="ltr">${texts}</g>` +
    `</svg>`
  )
}

function safeColor(value: string, fallback: string): string {
  return COLOR.test(value) ? value : fallback
}
