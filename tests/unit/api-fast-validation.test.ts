import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { acceptAssetList, acceptAssetParam, withFastPath } from '../../server/api/fast-validation.js'
import { AssetParams, QuotesQuery } from '../../shared/api.js'

type Validate = (data: unknown) => { value?: unknown; error?: unknown }

function compile(
  schema: z.ZodType,
  httpPart: string,
  accept: (part: string | undefined, data: unknown) => unknown,
) {
  const compiler = withFastPath<unknown>(accept) as unknown as (route: object) => Validate
  return compiler({ schema, httpPart, method: 'GET', url: '/x' })
}

const pieces = fc.oneof(
  fc.constantFrom('pol', 'US', 'a-b', 'x.y', '_', ',', ',,', ' ', '<', '%', 'é', ''),
  fc.string({ maxLength: 6 }),
)
const listValue = fc.oneof(
  fc.array(pieces, { maxLength: 12 }).map((p) => p.join('')),
  fc
    .array(fc.constantFrom('pol', 'btc', 'a'.repeat(40), 'a'.repeat(41)), { maxLength: 300 })
    .map((p) => p.join(',')),
  fc.constant('a,'.repeat(4_500).slice(0, -1)),
)
const queryObject = fc.oneof(
  listValue.map((assets) => ({ assets })),
  fc.record({
    assets: fc.oneof(fc.array(listValue, { maxLength: 3 }), fc.integer(), fc.constant(undefined)),
  }),
  fc.record({ other: fc.string(), assets: listValue }),
  fc.constant({}),
)

describe('validation fast path', () => {
  it('agrees with zod on every ?assets= input: same verdict, same value', () => {
    const fast = compile(QuotesQuery, 'querystring', acceptAssetList)
    fc.assert(
      fc.property(queryObject, (q) => {
        const zod = QuotesQuery.safeParse(q)
        const got = fast(q)
        expect(got.error === undefined).toBe(zod.success)
        if (zod.success) expect(got.value).toEqual(zod.data)
      }),
      { numRuns: 2_000 },
    )
  })

  it('agrees with zod on every :asset input', () => {
    const fast = compile(AssetParams, 'params', acceptAssetParam)
    fc.assert(
      fc.property(
        fc.oneof(
          pieces.map((asset) => ({ asset })),
          fc.string({ maxLength: 45 }).map((asset) => ({ asset })),
        ),
        (p) => {
          const zod = AssetParams.safeParse(p)
          const got = fast(p)
          expect(got.error === undefined).toBe(zod.success)
          if (zod.success) expect(got.value).toEqual(zod.data)
        },
      ),
      { numRuns: 2_000 },
    )
  })

  it('leaves the errors to zod, with its issues', () => {
    const fast = compile(QuotesQuery, 'querystring', acceptAssetList)
    const got = fast({ assets: 'pol,,btc' }) as { error?: unknown }
    // The zod provider's error: an array of issues with instancePath and message, as for any route.
    expect(got.error).toEqual([
      expect.objectContaining({ instancePath: '/assets', message: expect.stringContaining('comma list') }),
    ])
    const other = compile(z.object({ n: z.number() }), 'body', acceptAssetList)
    expect(other({ n: 1 })).toEqual({ value: { n: 1 } })
  })
})
