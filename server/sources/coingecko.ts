import { z } from 'zod'
import { HttpClient } from './http.js'
import { parseEnvelope, parseRows } from './parse.js'
import type { SourceOptions } from './source.js'

/**
 * CoinGecko (https://docs.coingecko.com/reference/coins-markets): market cap, circulating supply,
 * logo and price for our assets, from GET /api/v3/coins/markets?vs_currency=usd&ids=a,b,c.
 */
const SOURCE = 'coingecko' as const
const DEFAULT_BASE_URL = 'https://api.coingecko.com'
/** coins/markets returns at most 250 rows per page. */
const MAX_IDS_PER_REQUEST = 250
/**
 * The free (demo) plan allows about 30 calls a minute and 10,000 a month; once a minute keeps
 * far from the per-minute limit (a month of it is ~43,000 calls, so a long-running demo key
 * needs a slower poll or a paid plan).
 */
const MIN_POLL_MS = 60_000

export interface CoinGeckoMarketData {
  marketCap: number | null
  circulatingSupply: number | null
  logo: string | null
  price: number | null
}

export interface CoinGeckoClient {
  readonly minPollMs: number
  /** Market data by CoinGecko id, for the ids CoinGecko knows; malformed rows are dropped and counted. */
  fetchMarketData(coingeckoIds: string[]): Promise<Map<string, CoinGeckoMarketData>>
  close(): Promise<void>
}

/** CoinGecko sends JSON numbers; a string, boolean or object here means the format changed. */
const maybeNumber = z.number().nullable().optional()

const MarketRow = z
  .object({
    id: z.string().min(1),
    image: z.string().nullable().optional(),
    current_price: maybeNumber,
    market_cap: maybeNumber,
    circulating_supply: maybeNumber,
  })
  .transform((r): [string, CoinGeckoMarketData] => [
    r.id,
    {
      price: positive(r.current_price),
      // CoinGecko reports 0 for an unknown market cap or supply.
      marketCap: positive(r.market_cap),
      circulatingSupply: positive(r.circulating_supply),
      logo: httpsUrl(r.image),
    },
  ])

const RowArray = z.array(z.unknown())

export function createCoinGeckoClient(opts: SourceOptions & { apiKey?: string }): CoinGeckoClient {
  const http = new HttpClient({
    source: SOURCE,
    baseUrl: opts.baseUrl ?? DEFAULT_BASE_URL,
    timeoutMs: opts.timeoutMs,
    metrics: opts.metrics,
    connections: 1,
    headers: opts.apiKey ? { 'x-cg-demo-api-key': opts.apiKey } : {},
  })

  return {
    minPollMs: MIN_POLL_MS,

    async fetchMarketData(coingeckoIds) {
      const ids = [...new Set(coingeckoIds.filter((id) => id.length > 0))]
      const out = new Map<string, CoinGeckoMarketData>()
      // One request for any realistic registry; more than 250 ids take one request per 250.
      for (let i = 0; i < ids.length; i += MAX_IDS_PER_REQUEST) {
        const chunk = ids.slice(i, i + MAX_IDS_PER_REQUEST)
        const query = { vs_currency: 'usd', ids: chunk.join(','), per_page: chunk.length, page: 1 }
        const body = await http.getJson('/api/v3/coins/markets', query, 'markets')
        const rows = parseEnvelope(SOURCE, RowArray, body, 'coins/markets', opts.metrics)
        const parsed = parseRows(SOURCE, MarketRow, rows, {
          metrics: opts.metrics,
          label: (row, index) => rowId(row) ?? `row ${index}`,
        })
        const wanted = new Set(chunk)
        for (const [id, data] of parsed.rows) if (wanted.has(id) && !out.has(id)) out.set(id, data)
      }
      return out
    },

    close: () => http.close(),
  }
}

function positive(n: number | null | undefined): number | null {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null
}

/** Only http(s) URLs are kept: the logo ends up in an <img src>. */
function httpsUrl(value: string | null | undefined): string | null {
  if (!value) return null
  try {
    const url = new URL(value)
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null
  } catch {
    return null
  }
}

function rowId(row: unknown): string | undefined {
  if (typeof row !== 'object' || row === null) return undefined
  const id = (row as Record<string, unknown>).id
  return typeof id === 'string' ? id : undefined
}
