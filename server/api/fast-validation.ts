import type { FastifySchemaCompiler } from 'fastify'
import { validatorCompiler } from 'fastify-type-provider-zod'
import { ASSET_LIST_RE, ASSET_REF_RE, MAX_ASSET_LIST_CHARS } from '../../shared/api.js'

/**
 * A route's validator with a fast path: `accept` recognises the common valid input with a plain
 * check and returns the value zod would give; anything else (odd or invalid input) goes through
 * the route's zod schema as usual, so errors and their details are unchanged. The zod schema
 * stays the contract and the OpenAPI source; this only spares the hot path a zod parse.
 */
export function withFastPath<S>(
  accept: (httpPart: string | undefined, data: unknown) => unknown,
): FastifySchemaCompiler<S> {
  // Fastify calls a route's compiler once per part (querystring, params…) with that part's schema.
  return (route) => {
    const slow = validatorCompiler(route as unknown as Parameters<typeof validatorCompiler>[0])
    const part = route.httpPart
    return (data: unknown) => {
      const value = accept(part, data)
      return value === undefined ? slow(data) : { value }
    }
  }
}

/** `?assets=pol,talus` as QuotesQuery accepts it, checked without zod. */
export function acceptAssetList(part: string | undefined, data: unknown): { assets: string } | undefined {
  const assets = part === 'querystring' ? (data as { assets?: unknown } | undefined)?.assets : undefined
  if (typeof assets !== 'string' || assets.length > MAX_ASSET_LIST_CHARS || !ASSET_LIST_RE.test(assets))
    return
  return { assets }
}

/** `:asset` as AssetParams accepts it, checked without zod. */
export function acceptAssetParam(part: string | undefined, data: unknown): { asset: string } | undefined {
  const asset = part === 'params' ? (data as { asset?: unknown } | undefined)?.asset : undefined
  if (typeof asset !== 'string' || !ASSET_REF_RE.test(asset)) return
  return { asset }
}
