import { describe, expect, it } from 'vitest'
import { loadRegistry, parseRegistry, RegistryError } from '../../server/assets.js'

describe('asset registry', () => {
  it('the default registry holds btc, eth, sol, pol and talus (US)', () => {
    const r = loadRegistry(undefined)
    for (const id of ['btc', 'eth', 'sol', 'pol', 'talus']) expect(r.has(id)).toBe(true)
    expect(r.get('talus')).toMatchObject({ symbol: 'US', name: 'Talus' })
    expect(r.get('pol')?.markets.length).toBeGreaterThan(1)
  })

  it('resolves ids, and symbols only where unambiguous', () => {
    const r = parseRegistry(
      {
        assets: [
          { id: 'talus', symbol: 'US', name: 'Talus', markets: [] },
          { id: 'a1', symbol: 'DUP', name: 'A', markets: [] },
          { id: 'a2', symbol: 'DUP', name: 'B', markets: [] },
        ],
      },
      'test',
    )
    expect(r.resolve('talus')?.id).toBe('talus')
    expect(r.resolve('us')?.id).toBe('talus')
    expect(r.resolve('DUP')).toBeUndefined()
  })

  it.each([
    [{ assets: [{ id: 'POL', symbol: 'POL', name: 'x', markets: [] }] }, /asset "POL": field id/],
    [
      {
        assets: [
          { id: 'pol', symbol: 'POL', name: 'x', markets: [{ source: 'ftx', symbol: 'X', quote: 'USD' }] },
        ],
      },
      /asset "pol": field markets\.0\.source/,
    ],
    [{ assets: [{ symbol: 'POL', name: 'x', markets: [] }] }, /asset #1: field id/],
    [
      {
        assets: [
          { id: 'pol', symbol: 'POL', name: 'x', markets: [] },
          { id: 'pol', symbol: 'POL', name: 'y', markets: [] },
        ],
      },
      /asset "pol": id is listed twice/,
    ],
    [{ assets: [] }, /assets/],
  ])('rejects an invalid document naming the asset and field (%#)', (doc, message) => {
    expect(() => parseRegistry(doc, 'file.json')).toThrow(RegistryError)
    expect(() => parseRegistry(doc, 'file.json')).toThrow(message)
  })

  it('reports an unreadable or non-JSON file', () => {
    expect(() => loadRegistry('/nonexistent/registry.json')).toThrow(/cannot read/)
    expect(() => loadRegistry(new URL('../../package.json', import.meta.url).pathname)).toThrow(/assets/)
  })
})
