import { readFileSync } from 'node:fs'
import type { z } from 'zod'
import { type Asset, type AssetInfo, AssetRegistryFile } from '../shared/asset.js'
import type { ExchangeId } from '../shared/quote.js'
import defaultRegistry from './assets.default.json' with { type: 'json' }

export class RegistryError extends Error {
  override name = 'RegistryError'
}

/**
 * The asset registry: every asset the service knows, addressed by id (a ticker is ambiguous:
 * Talus trades as US), with its market on each exchange.
 */
export class AssetRegistry {
  private readonly byId: Map<string, Asset>
  private readonly bySymbol: Map<string, Asset[]>

  constructor(readonly assets: readonly Asset[]) {
    this.byId = new Map(assets.map((a) => [a.id, a]))
    this.bySymbol = new Map()
    for (const a of assets) {
      const key = a.symbol.toUpperCase()
      this.bySymbol.set(key, [...(this.bySymbol.get(key) ?? []), a])
    }
  }

  get(id: string): Asset | undefined {
    return this.byId.get(id)
  }

  has(id: string): boolean {
    return this.byId.has(id)
  }

  ids(): string[] {
    return [...this.byId.keys()]
  }

  /** An id, or a symbol where it names exactly one asset. */
  resolve(idOrSymbol: string): Asset | undefined {
    const byId = this.byId.get(idOrSymbol.toLowerCase())
    if (byId) return byId
    const matches = this.bySymbol.get(idOrSymbol.toUpperCase())
    return matches?.length === 1 ? matches[0] : undefined
  }

  /** (exchange market name → asset) for one exchange. */
  marketsOf(source: ExchangeId): Map<string, { asset: Asset; quote: Asset['markets'][number]['quote'] }> {
    const out = new Map<string, { asset: Asset; quote: Asset['markets'][number]['quote'] }>()
    for (const asset of this.assets) {
      for (const m of asset.markets) if (m.source === source) out.set(m.symbol, { asset, quote: m.quote })
    }
    return out
  }

  info(): AssetInfo[] {
    return this.assets.map((a) => ({
      id: a.id,
      symbol: a.symbol,
      name: a.name,
      sources: [...new Set(a.markets.map((m) => m.source))],
      logo: a.logo ?? null,
    }))
  }
}

/** Validates a registry document; the error names the asset and the field. */
export function parseRegistry(doc: unknown, origin: string): AssetRegistry {
  const parsed = AssetRegistryFile.safeParse(doc)
  if (!parsed.success) throw new RegistryError(`${origin}: ${describeIssue(doc, parsed.error.issues[0]!)}`)
  const seen = new Set<string>()
  for (const a of parsed.data.assets) {
    if (seen.has(a.id)) throw new RegistryError(`${origin}: asset "${a.id}": id is listed twice`)
    seen.add(a.id)
    const markets = new Set<string>()
    for (const m of a.markets) {
      const key = `${m.source}:${m.symbol}`
      if (markets.has(key))
        throw new RegistryError(`${origin}: asset "${a.id}": market ${key} is listed twice`)
      markets.add(key)
    }
  }
  return new AssetRegistry(parsed.data.assets)
}

function describeIssue(doc: unknown, issue: z.core.$ZodIssue): string {
  const [top, index, ...rest] = issue.path
  if (top === 'assets' && typeof index === 'number') {
    const raw = (doc as { assets?: { id?: unknown }[] }).assets?.[index]
    const name = typeof raw?.id === 'string' ? `asset "${raw.id}"` : `asset #${index + 1}`
    const field = rest.length ? rest.join('.') : '(the asset itself)'
    return `${name}: field ${field}: ${issue.message}`
  }
  return `${issue.path.join('.') || 'document'}: ${issue.message}`
}

/** The registry from PRICEWIRE_ASSETS_FILE, or the default one shipped in the repo. */
export function loadRegistry(file: string | undefined): AssetRegistry {
  if (!file) return parseRegistry(defaultRegistry, 'default registry')
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new RegistryError(`PRICEWIRE_ASSETS_FILE=${file}: cannot read: ${(err as Error).message}`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new RegistryError(`PRICEWIRE_ASSETS_FILE=${file}: invalid JSON: ${(err as Error).message}`)
  }
  return parseRegistry(doc, `PRICEWIRE_ASSETS_FILE=${file}`)
}
