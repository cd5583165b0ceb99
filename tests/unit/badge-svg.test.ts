import { describe, expect, it } from 'vitest'
import { quoteBadge, unknownAssetBadge } from '../../server/api/badge-content.js'
import { cleanText, escapeXml, renderBadge, textWidth } from '../../server/api/badge-svg.js'
import { makeQuote } from '../helpers/quotes.js'

describe('badge text', () => {
  it('escapes the five XML specials', () => {
    expect(escapeXml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    )
  })

  it('removes control, bidi and invisible characters and folds whitespace', () => {
    expect(cleanText('US\u202e\u2066x\u2069\u200f')).toBe('USx')
    expect(cleanText('a\u0000b\u0007c\u007f\u0085d\ufeff')).toBe('abcd')
    expect(cleanText('  two\n\tlines\u2028here  ')).toBe('two lines here')
  })

  it('replaces unpaired surrogates and keeps paired ones', () => {
    expect(cleanText('a\ud800b')).toBe('a\ufffdb')
    expect(cleanText('a\udc00')).toBe('a\ufffd')
    expect(cleanText('ok 😀')).toBe('ok 😀')
  })

  it('shortens long text by characters, not code units', () => {
    const long = '😀'.repeat(100)
    const out = cleanText(long, 10)
    expect([...out]).toHaveLength(10)
    expect(out.endsWith('…')).toBe(true)
    expect(cleanText('short', 10)).toBe('short')
  })

  it('estimates widths that grow with the text and treat wide characters as wide', () => {
    expect(textWidth('')).toBe(0)
    expect(textWidth('iiii')).toBeLessThan(textWidth('MMMM'))
    expect(textWidth('漢字')).toBeGreaterThan(textWidth('ab'))
    expect(textWidth('e\u0301')).toBe(textWidth('e'))
  })
})

describe('renderBadge', () => {
  it('lays the boxes side by side and sizes the image to them', () => {
    const svg = renderBadge({
      title: 'T',
      boxes: [
        { text: 'POL', fill: '#555' },
        { text: '$0.25', fill: '#0a6ebd' },
      ],
      ink: { text: '#fff', shadow: '#010101' },
    })
    const rects = [...svg.matchAll(/<rect x="(\d+)" width="(\d+)"/g)].map((m): [number, number] => [
      Number(m[1]),
      Number(m[2]),
    ])
    expect(rects).toHaveLength(2)
    expect(rects[1]![0]).toBe(rects[0]![1])
    const width = Number(/<svg [^>]*width="(\d+)"/.exec(svg)![1])
    expect(width).toBe(rects[0]![1] + rects[1]![1])
  })

  it('never puts a colour it was given into the SVG unless it is a hex colour', () => {
    const svg = renderBadge({
      title: 't',
      boxes: [{ text: 'x', fill: 'red" onload="alert(1)' }],
      ink: { text: 'url(javascript:x)', shadow: '#000' },
    })
    expect(svg).not.toContain('onload')
    expect(svg).not.toContain('javascript')
    expect(svg).toContain('fill="#555"')
    expect(svg).toContain('fill="#fff"')
  })

  it('escapes hostile text in the title, aria-label and boxes', () => {
    const svg = renderBadge({
      title: '</title><script>alert(1)</script>',
      boxes: [{ text: '"/><script>', fill: '#555' }],
      ink: { text: '#fff', shadow: '#000' },
    })
    expect(svg).not.toContain('<script')
    expect(svg).toContain('&lt;/title&gt;&lt;script&gt;')
    expect(svg).toContain('&quot;/&gt;&lt;script&gt;')
  })
})

describe('badge content', () => {
  const asset = { id: 'pol', symbol: 'POL', name: 'Polygon' }

  it('says no data yet without a quote', () => {
    const spec = quoteBadge(asset, undefined, ['change'], 'light')
    expect(spec.boxes.map((b) => b.text)).toEqual(['POL', 'no data yet'])
  })

  it('shows a flat change without an arrow and an unknown one as a dash', () => {
    const flat = quoteBadge(asset, makeQuote('pol', { price: 1, change24h: 0 }), ['change'], 'light')
    expect(flat.boxes[2]!.text).not.toMatch(/[▲▼]/)
    const none = quoteBadge(asset, makeQuote('pol', { price: 1, change24h: null }), ['change'], 'dark')
    expect(none.boxes[2]!.text).not.toMatch(/[▲▼]/)
    expect(none.boxes[2]!.text).not.toMatch(/NaN|null|undefined/)
  })

  it('never prints NaN, null or undefined for missing figures', () => {
    const q = makeQuote('pol', { price: 0.5, marketCap: null, volume24h: null, volatility24h: null })
    const spec = quoteBadge(asset, q, ['volatility', 'marketcap', 'volume'], 'light')
    for (const b of spec.boxes) expect(b.text).not.toMatch(/NaN|null|undefined/)
  })

  it('names an unknown asset in the 404 badge', () => {
    expect(unknownAssetBadge('doge', 'dark').boxes.map((b) => b.text)).toEqual(['doge', 'unknown asset'])
  })
})
