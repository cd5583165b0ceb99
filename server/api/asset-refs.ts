import { MAX_ASSETS_PER_REQUEST } from '../../shared/api.js'
import type { Asset } from '../../shared/asset.js'
import type { AssetRegistry } from '../assets.js'
import { ApiError } from './errors.js'

/**
 * Asset references in URLs: a registry id (case-insensitive) or a symbol that exactly one asset
 * has (`US` → talus). An ambiguous symbol names nothing: the client must use an id.
 */

export function resolveAsset(registry: AssetRegistry, ref: string): Asset {
  const asset = registry.resolve(ref)
  if (asset) return asset
  const candidates = registry.assets
    .filter((a) => a.symbol.toUpperCase() === ref.toUpperCase())
    .map((a) => a.id)
  if (candidates.length > 1) {
    throw new ApiError(
      404,
      'ambiguous_asset',
      `symbol ${ref} names several assets (${candidates.join(', ')}): ask by id`,
      { asset: ref, candidates },
    )
  }
  throw new ApiError(404, 'unknown_asset', `unknown asset: ${ref}`, { asset: ref })
}

export interface AssetListPlan {
  /** Distinct known asset ids, in the order first asked. */
  ids: string[]
  /** Each distinct reference as asked, with the id it names (undefined: unknown or ambiguous). */
  refs: { ref: string; id: string | undefined }[]
}

/** A comma list (already syntax-checked by the route schema) → ids; 400 over the limit, 404 when none is known. */
export function planAssetList(registry: AssetRegistry, list: string): AssetListPlan {
  const asked = list.split(',')
  if (asked.length > MAX_ASSETS_PER_REQUEST) {
    throw new ApiError(
      400,
      'too_many_assets',
      `at most ${MAX_ASSETS_PER_REQUEST} assets per request, got ${asked.length}`,
      { max: MAX_ASSETS_PER_REQUEST, count: asked.length },
    )
  }
  const refs = [...new Set(asked)].map((ref) => ({ ref, id: registry.resolve(ref)?.id }))
  const ids = [...new Set(refs.flatMap((r) => (r.id ? [r.id] : [])))]
  if (ids.length === 0) {
    const missing = refs.map((r) => r.ref)
    throw new ApiError(404, 'unknown_assets', `unknown assets: ${missing.slice(0, 10).join(', ')}`, {
      missing,
    })
  }
  return { ids, refs }
}
