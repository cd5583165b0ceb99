import { describe, expect, it } from 'vitest'
import { planAssetList, resolveAsset } from '../../server/api/asset-refs.js'
import { ApiError } from '../../server/api/errors.js'
import { parseRegistry } from '../../server/assets.js'

const registry = parseRegistry(
  {
    assets: [
      { id: 'pol', symbol: 'POL', name: 'Polygon', markets: [] },
      { id: 'talus', symbol: 'US', name: 'Talus', markets: [] },
      { id: 'usd-a', symbol: 'USX', name: 'Dollar A', markets: [] },
      { id: 'usd-b', symbol: 'USX', name: 'Dollar B', markets: [] },
    ],
  },
  'test',
)

function thrown(fn: () => unknown): ApiError {
  try {
    fn()
  } catch (err) {
    if (err instanceof ApiError) return err
    throw err
  }
  throw new Error('did not throw')
}

describe('resolveAsset', () => {
  it('finds an id case-insensitively and an unambiguous symbol', () => {
    expect(resolveAsset(registry, 'POL').id).toBe('pol')
    expect(resolveAsset(registry, 'us').id).toBe('talus')
  })

  it('refuses an ambiguous symbol, naming the candidates', () => {
    const err = thrown(() => resolveAsset(registry, 'usx'))
    expect(err.statusCode).toBe(404)
    expect(err.code).toBe('ambiguous_asset')
    expect(err.details).toEqual({ asset: 'usx', candidates: ['usd-a', 'usd-b'] })
  })

  it('answers an unknown name with 404 unknown_asset', () => {
    const err = thrown(() => resolveAsset(registry, 'btc'))
    expect([err.statusCode, err.code]).toEqual([404, 'unknown_asset'])
    expect(err.message).toBe('unknown asset: btc')
  })
})

describe('planAssetList', () => {
  it('resolves, de-duplicates by reference and by id, keeping the order', () => {
    const plan = planAssetList(registry, 'US,pol,talus,US,nope,USX')
    expect(plan.ids).toEqual(['talus', 'pol'])
    expect(plan.refs).toEqual([
      { ref: 'US', id: 'talus' },
      { ref: 'pol', id: 'pol' },
      { ref: 'talus', id: 'talus' },
      { ref: 'nope', id: undefined },
      { ref: 'USX', id: undefined },
    ])
  })

  it('answers 400 over 100 references, counting repeats', () => {
    const err = thrown(() => planAssetList(registry, Array(101).fill('pol').join(',')))
    expect([err.statusCode, err.code]).toEqual([400, 'too_many_assets'])
    expect(planAssetList(registry, Array(100).fill('pol').join(',')).ids).toEqual(['pol'])
  })

  it('answers 404 when none is known', () => {
    const err = thrown(() => planAssetList(registry, 'a,b,USX'))
    expect([err.statusCode, err.code]).toEqual([404, 'unknown_assets'])
    expect(err.details).toEqual({ missing: ['a', 'b', 'USX'] })
  })
})
