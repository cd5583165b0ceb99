import { z } from 'zod'
import type { Resolution } from '../../shared/quote.js'
import type { Metrics } from '../metrics.js'
import { HttpClient } from './http.js'
import {
  clampLimit,
  optionalAmount,
  optionalPrice,
  parseCandleRows,
  parseEnvelope,
  parseTickRows,
  priceField,
  type TickFields,
  timeField,
} from './parse.js'
import { type Candle, type Source, SourceError, type SourceOptions, type TickBatch } from './source.js'

/**
 * Kraken spot (https://docs.kraken.com/api/): GET /0/public/AssetPairs, /0/public/Ticker?pair=A,B
 * (all our pairs in one request), /0/public/OHLC. Markets are named by their altname (XBTUSD,
 * POLUSD); Kraken answers with its canonical pair keys (XXBTZUSD), mapped back through AssetPairs.
 * Errors come as HTTP 200 with a non-empty `error` array.
 */
const SOURCE = 'kraken' as const
const DEFAULT_BASE_URL = 'https://api.kraken.com'
/** OHLC returns the 720 most recent entries and no more. */
const MAX_CANDLES = 720
const INTERVAL_MINUTES: Record<Resolution, number> = { '5m': 5, '1h': 60 }
/** Public endpoints are throttled per IP at about one request per second. */
const MIN_POLL_MS = 1000
/** How long the AssetPairs map is trusted before fetchTickers reloads it (new listings). */
const PAIRS_TTL_MS = 60 * 60_000

const Envelope = z.object({ error: z.array(z.string()), result: z.unknown().optional() })
const ResultRecord = z.record(z.string(), z.unknown())
const AssetPair = z.object({ altname: z.string().min(1), status: z.string().optional() })

/** [today, last 24 h]: we use the rolling 24 h value. */
const rolling = <T extends z.ZodType>(item: T) => z.tuple([z.unknown(), item], z.unknown()).optional()

const TickerRow = z
  .object({
    pair: z.string(),
    ticker: z.object({
      c: z.tuple([priceField], z.unknown()),
      h: rolling(optionalPrice),
      l: rolling(optionalPrice),
      v: rolling(optionalAmount),
      p: rolling(optionalPrice),
    }),
  })
  .transform(({ pair, ticker }): TickFields => {
    const baseVolume = ticker.v?.[1] ?? null
    const vwap = ticker.p?.[1] ?? null
    return {
      market: pair,
      last: ticker.c[0],
      // Kraken's `o` is the open since 00:00 UTC, not 24 h ago: never published as open24h.
      open24h: null,
      high24h: ticker.h?.[1] ?? null,
      low24h: ticker.l?.[1] ?? null,
      changePercent24h: null,
      baseVolume,
      // No quote volume is published: 24 h volume × 24 h VWAP is an estimate.
      quoteVolume: baseVolume !== null && vwap !== null ? baseVolume * vwap : null,
      ts: null,
    }
  })

/** [t (s), open, high, low, close, vwap, volume, count]. */
const CandleRow = z
  .tuple(
    [timeField, priceField, priceField, priceField, priceField, z.unknown(), optionalAmount],
    z.unknown(),
  )
  .transform(
    ([t, open, high, low, close, , baseVolume]): Candle => ({
      ts: t * 1000,
      open,
      high,
      low,
      close,
      baseVolume,
    }),
  )

interface PairMap {
  /** Canonical key (XXBTZUSD) → altname (XBTUSD). */
  altnameByKey: Map<string, string>
  /** Every altname, whatever its status. */
  altnames: Set<string>
  /** Altnames whose status is online. */
  online: Set<string>
  loadedAt: number
}

export function createKrakenSource(opts: SourceOptions): Source {
  const http = new HttpClient({
    source: SOURCE,
    baseUrl: opts.baseUrl ?? DEFAULT_BASE_URL,
    timeoutMs: opts.timeoutMs,
    metrics: opts.metrics,
    connections: 2,
  })
  let pairs: PairMap | undefined

  async function loadPairs(): Promise<PairMap> {
    const body = await http.getJson('/0/public/AssetPairs', {}, 'markets')
    const result = krakenResult(body, 'AssetPairs', opts.metrics)
    const map: PairMap = {
      altnameByKey: new Map(),
      altnames: new Set(),
      online: new Set(),
      loadedAt: Date.now(),
    }
    for (const [key, value] of Object.entries(result)) {
      const pair = AssetPair.safeParse(value)
      if (!pair.success) continue
      map.altnameByKey.set(key, pair.data.altname)
      map.altnames.add(pair.data.altname)
      if (pair.data.status === undefined || pair.data.status === 'online') map.online.add(pair.data.altname)
    }
    pairs = map
    return map
  }

  return {
    id: SOURCE,
    minPollMs: MIN_POLL_MS,

    async listMarkets() {
      return new Set((await loadPairs()).online)
    },

    async fetchTickers(markets): Promise<TickBatch> {
      // The pair map comes from listMarkets; loaded here only when missing or stale (one extra request).
      const map = pairs && Date.now() - pairs.loadedAt < PAIRS_TTL_MS ? pairs : await loadPairs()
      // Kraken fails the whole request on one unknown pair, so only listed pairs are asked for.
      const wanted = [...new Set(markets)].filter((m) => map.altnames.has(m))
      if (wanted.length === 0) return { ticks: [], dropped: 0, dropReasons: [] }
      const body = await http.getJson('/0/public/Ticker', { pair: wanted.join(',') }, 'tickers')
      const receivedAt = Date.now()
      const result = krakenResult(body, 'Ticker', opts.metrics)
      const wantedSet = new Set(wanted)
      const rows: unknown[] = []
      const seen = new Set<string>()
      for (const [key, ticker] of Object.entries(result)) {
        const altname = wantedSet.has(key) ? key : map.altnameByKey.get(key)
        if (altname === undefined || !wantedSet.has(altname) || seen.has(altname)) continue
        seen.add(altname)
        rows.push({ pair: altname, ticker })
      }
      return parseTickRows(SOURCE, TickerRow, rows, {
        metrics: opts.metrics,
        receivedAt,
        marketField: 'pair',
      })
    },

    async fetchCandles(market, resolution, limit) {
      const count = clampLimit(limit, MAX_CANDLES)
      const query = { pair: market, interval: INTERVAL_MINUTES[resolution] }
      const body = await http.getJson('/0/public/OHLC', query, 'candles')
      const result = krakenResult(body, 'OHLC', opts.metrics)
      // One key is the pair (canonical name), the other is `last` (the cursor for `since`).
      const rows = Object.entries(result).find(([key, value]) => key !== 'last' && Array.isArray(value))?.[1]
      if (!Array.isArray(rows)) {
        opts.metrics?.sourceErrors.inc({ source: SOURCE, kind: 'schema' })
        throw new SourceError(SOURCE, 'schema', `OHLC: no candle rows for ${market}`)
      }
      return parseCandleRows(SOURCE, CandleRow, rows, count, opts.metrics)
    },

    close: () => http.close(),
  }
}

/**
 * The `result` object of a Kraken envelope. Errors ("E…" entries; "W…" are warnings) throw: a
 * rate limit as rate_limited, anything else as schema.
 */
function krakenResult(body: unknown, what: string, metrics: Metrics | undefined): Record<string, unknown> {
  const envelope = parseEnvelope(SOURCE, Envelope, body, what, metrics)
  const errors = envelope.error.filter((e) => !e.startsWith('W'))
  if (errors.length > 0) {
    const text = errors.join('; ').slice(0, 200)
    const kind = /rate limit|too many requests/i.test(text) ? 'rate_limited' : 'schema'
    metrics?.sourceErrors.inc({ source: SOURCE, kind })
    throw new SourceError(SOURCE, kind, `${what}: ${text}`)
  }
  return parseEnvelope(SOURCE, ResultRecord, envelope.result, `${what} result`, metrics)
}
