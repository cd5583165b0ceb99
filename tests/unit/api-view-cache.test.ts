import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { QuoteViewCache } from '../../server/api/quote-view-cache.js'
import { lazyChildLogger } from '../../server/api/request-logger.js'
import { MemoryEngine } from '../../server/engine/memory.js'
import type { Quote } from '../../shared/quote.js'
import { makeQuote } from '../helpers/quotes.js'

function setup(staleMs = 60_000) {
  const engine = new MemoryEngine()
  const renders: string[] = []
  const cache = new QuoteViewCache<string[], string>(engine, staleMs, {
    plan: (key) => key.split(','),
    ids: (ids) => ids,
    render: (ids, quotes: readonly (Quote | undefined)[]) => {
      const view = ids
        .map((id, i) => `${id}=${quotes[i]?.price ?? '-'}${quotes[i]?.stale ? '(stale)' : ''}`)
        .join(' ')
      renders.push(view)
      return view
    },
    size: (v) => v.length,
  })
  return { engine, cache, renders }
}

describe('QuoteViewCache', () => {
  it('renders once per change of the quotes behind a key', async () => {
    const { engine, cache, renders } = setup()
    await engine.setQuotes([makeQuote('pol', { price: 1, seq: 1 })])
    expect(cache.get('pol,btc')).toBe('pol=1 btc=-')
    expect(cache.get('pol,btc')).toBe('pol=1 btc=-')
    expect(renders).toHaveLength(1)
    await engine.setQuotes([makeQuote('btc', { price: 2, seq: 1 })])
    expect(cache.get('pol,btc')).toBe('pol=1 btc=2')
    await engine.setQuotes([makeQuote('pol', { price: 1.5, seq: 2 })])
    expect(cache.get('pol,btc')).toBe('pol=1.5 btc=2')
    expect(renders).toHaveLength(3)
  })

  it('does not render again for a copy of the same update', async () => {
    const { engine, cache, renders } = setup()
    const q = makeQuote('pol', { price: 1, seq: 5 })
    await engine.setQuotes([q])
    cache.get('pol')
    await engine.setQuotes([{ ...q }])
    cache.get('pol')
    expect(renders).toHaveLength(1)
  })

  it('does not render again when only other assets change', async () => {
    const { engine, cache, renders } = setup()
    await engine.setQuotes([makeQuote('pol', { price: 1, seq: 1 })])
    cache.get('pol')
    await engine.setQuotes([makeQuote('btc', { price: 2, seq: 1 })])
    await engine.publish({
      origin: 'x',
      publishedAt: Date.now(),
      quotes: [makeQuote('eth', { seq: 3 })],
      history: [],
    })
    expect(cache.get('pol')).toBe('pol=1')
    expect(cache.get('pol')).toBe('pol=1')
    expect(renders).toHaveLength(1)
    await engine.setQuotes([makeQuote('pol', { price: 3, seq: 2 })])
    expect(cache.get('pol')).toBe('pol=3')
  })

  it('renders again when a quote turns stale with time', async () => {
    const { engine, cache, renders } = setup(1_000)
    await engine.setQuotes([makeQuote('pol', { price: 1, seq: 1, updatedAt: Date.now() - 900 })])
    expect(cache.get('pol')).toBe('pol=1')
    await new Promise((r) => setTimeout(r, 150))
    expect(cache.get('pol')).toBe('pol=1(stale)')
    expect(renders).toHaveLength(2)
  })

  it('never caches a failed plan', () => {
    const engine = new MemoryEngine()
    let plans = 0
    const cache = new QuoteViewCache<string, string>(engine, 60_000, {
      plan: (key) => {
        plans++
        throw new Error(`no ${key}`)
      },
      ids: () => [],
      render: () => '',
      size: () => 0,
    })
    expect(() => cache.get('x')).toThrow('no x')
    expect(() => cache.get('x')).toThrow('no x')
    expect(plans).toBe(2)
    expect(cache.size).toBe(0)
  })

  it('stays within its byte budget, dropping the oldest keys', async () => {
    const engine = new MemoryEngine()
    await engine.setQuotes([makeQuote('pol', { seq: 1 })])
    const cache = new QuoteViewCache<string, string>(
      engine,
      60_000,
      { plan: () => 'pol', ids: () => ['pol'], render: () => 'x'.repeat(1_000), size: (v) => v.length },
      5_000,
    )
    for (let i = 0; i < 50; i++) cache.get(`k${i}`)
    expect(cache.size).toBeGreaterThan(0)
    expect(cache.size).toBeLessThanOrEqual(5)
  })
})

describe('lazy request logger', () => {
  it('makes the child only when a line is written at an enabled level, with its bindings', () => {
    const lines: string[] = []
    const root = pino({ level: 'info' }, { write: (l: string) => lines.push(l) })
    let children = 0
    const counted = Object.assign(Object.create(root), {
      child: (b: object, o: object) => {
        children++
        return root.child(b, o)
      },
    })
    const log = lazyChildLogger(counted, { reqId: 'req-7' }, {})
    log.debug('below the level')
    expect(children).toBe(0)
    expect(log.level).toBe('info')
    log.warn({ a: 1 }, 'hello')
    log.error('again')
    expect(children).toBe(1)
    expect(lines.map((l) => JSON.parse(l) as { reqId: string; msg: string })).toMatchObject([
      { reqId: 'req-7', msg: 'hello', a: 1 },
      { reqId: 'req-7', msg: 'again' },
    ])
  })
})
