import type { Quote, Resolution, SourceId, Tick } from '../../shared/quote.js'
import { RESOLUTION_RETENTION_MS } from '../../shared/quote.js'
import type { AppContext } from '../context.js'
import type { HistoryUpdate } from '../engine/engine.js'
import { type CoinGeckoClient, createCoinGeckoClient } from '../sources/coingecko.js'
import { createSource } from '../sources/index.js'
import { createSimulatedSource } from '../sources/simulated.js'
import type { Source } from '../sources/source.js'
import { createStream, type StreamClientOptions, type TickStream } from '../sources/streams/index.js'
import { aggregateQuote } from './aggregate.js'
import { backfillAsset, needsBackfill } from './backfill.js'
import type { BreakerState } from './breaker.js'
import { Coalescer } from './coalesce.js'
import {
  HistoryBook,
  type HistoryWrite,
  price24hAgo,
  RESOLUTIONS,
  volatility24h,
  withLatest,
} from './history.js'
import { LeaderLease } from './leader.js'
import { MarketDataPoller } from './market-data.js'
import { MarketIndex, TickTable } from './markets.js'
import { PollLoop, type PollResult, SourcePoller } from './scheduler.js'
import { STABLECOIN_MARKETS, type StableRates, stablecoinRates } from './stablecoins.js'

export interface IngestOptions {
  /** Builds the ticker source for an id; default: the exchange adapters, and the simulator for "simulated". */
  createSource?: (id: SourceId) => Source | undefined
  /** Builds the CoinGecko client when "coingecko" is among config.sources; default: the real client. */
  createCoinGecko?: () => CoinGeckoClient
  /** Circuit breaker per source (default: opens after 5 consecutive failures, probes after 30 s). */
  breaker?: { threshold: number; coolDownMs: number }
  /** Market list reload interval (default hourly). */
  marketListRefreshMs?: number
  /** CoinGecko poll interval (default: its minPollMs, at least pollMs; 5 × pollMs when its URL is overridden). */
  marketDataPollMs?: number
  /** Lock name (default "poller"). */
  lockName?: string
  /** Exchange stream timings (tests: a short lifetime, fast pings, short backoff); defaults are each exchange's. */
  streamTuning?: StreamTuning
}

/** What of a stream client's behaviour may be tuned; the rest comes from config and the ingest. */
export type StreamTuning = Omit<
  StreamClientOptions,
  'url' | 'silenceMs' | 'logger' | 'metrics' | 'onTicks' | 'onHealth'
>

export interface SourceStatus {
  source: SourceId
  breaker: BreakerState
  /** Registry markets the exchange lists (all of them until its list is loaded). */
  markets: string[]
  /** Whether its live exchange stream delivers (REST polling slowed to reconciliation). */
  streaming: boolean
}

export interface Ingest {
  /** Joins the leader election; on the leader, resolves once the first quotes are published (bounded wait). */
  start(): Promise<void>
  /** Stops polling, releases the lock, closes the sources. */
  stop(): Promise<void>
  isLeader(): boolean
  sources(): SourceStatus[]
}

const DEFAULT_BREAKER = { threshold: 5, coolDownMs: 30_000 }
const HOUR_MS = 3_600_000

/**
 * The market-data core: leader election, the poll loop per source, the tick table, aggregation,
 * history and publishing. Only the leader polls; every node receives what it publishes.
 */
export function createIngest(ctx: AppContext, options: IngestOptions = {}): Ingest {
  const { config, logger: rootLogger, engine, registry, metrics } = ctx
  /** A quote whose values have not changed is republished this often, well within the stale limit. */
  const refreshMs = Math.floor(config.staleMs / 4)
  const logger = rootLogger.child({ component: 'ingest' })
  const tickerIds = config.sources.filter((id) => id !== 'coingecko')
  const index = new MarketIndex(registry, tickerIds)
  const table = new TickTable(index, refreshMs)
  const book = new HistoryBook()
  const lastPublished = new Map<string, Quote>()
  const rejectedMarkets = new Set<string>()
  const makeSource =
    options.createSource ??
    ((id: SourceId) =>
      id === 'simulated'
        ? createSimulatedSource(registry, config.simSeed)
        : createSource(id, config, metrics))

  let pollers: SourcePoller[] = []
  /** The live streams of this leadership term, by source. */
  const streams = new Map<SourceId, TickStream>()
  /** Streamed ticks are published only once the term's warm-up (first poll, backfill) is done. */
  let live = false
  let marketData: MarketDataPoller | undefined
  let loop: PollLoop | undefined
  let term = 0
  let warmup: Promise<void> | undefined
  let started = false

  const lease = new LeaderLease({
    engine,
    name: options.lockName ?? 'poller',
    owner: config.nodeId,
    ttlMs: config.leaderTtlMs,
    logger,
    metrics,
    onAcquire: () => {
      warmup = beginTerm(++term).catch((err: unknown) => logger.error({ err }, 'ingest warm-up failed'))
    },
    onLose: () => endTerm(),
  })
  const active = (t: number) => t === term && lease.isLeader()

  const coalescer = new Coalescer({
    maxPerSec: config.pushMaxPerSec,
    flush: (keys) => publish(keys, term),
    onError: (err) => logger.error({ err }, 'publishing failed'),
  })

  function buildSources(): void {
    for (const id of tickerIds) {
      const source = makeSource(id)
      if (!source) {
        logger.warn({ source: id }, `no ticker source "${id}": left out`)
        continue
      }
      pollers.push(
        new SourcePoller({
          source,
          markets: index.marketsOf(id),
          pollMs: config.pollMs,
          urlOverridden: config.sourceUrls[id] !== undefined,
          breaker: options.breaker ?? DEFAULT_BREAKER,
          marketListRefreshMs: options.marketListRefreshMs ?? HOUR_MS,
          marketListRetryMs: Math.min(60_000, options.marketListRefreshMs ?? HOUR_MS),
          logger,
          metrics,
          reconcileMs: reconcileIntervalMs(),
        }),
      )
    }
    if (config.sources.includes('coingecko')) {
      const client =
        options.createCoinGecko?.() ??
        createCoinGeckoClient({
          baseUrl: config.sourceUrls.coingecko,
          timeoutMs: config.requestTimeoutMs,
          metrics,
          apiKey: config.coingeckoApiKey,
        })
      const interval =
        options.marketDataPollMs ??
        (config.sourceUrls.coingecko !== undefined
          ? config.pollMs * 5
          : Math.max(client.minPollMs, config.pollMs))
      marketData = new MarketDataPoller(client, registry, interval, logger)
    }
  }

  /** A leadership term: load state, market lists, first poll, backfill, then the loop. */
  async function beginTerm(t: number): Promise<void> {
    const ids = registry.ids()
    const now = Date.now()
    try {
      const quotes = await engine.getQuotes(ids)
      quotes.forEach((q, i) => {
        if (q) lastPublished.set(ids[i]!, q)
      })
    } catch (err) {
      logger.warn({ err }, 'could not read the latest quotes; continuing from this node’s mirror')
      for (const id of ids) {
        const q = engine.latest(id)
        if (q) lastPublished.set(id, q)
      }
    }
    await Promise.all(
      ids.flatMap((asset) =>
        RESOLUTIONS.map(async (resolution: Resolution) => {
          try {
            const points = await engine.readHistory(
              asset,
              resolution,
              now - RESOLUTION_RETENTION_MS[resolution],
            )
            book.set(asset, resolution, points, now)
          } catch (err) {
            logger.warn({ err, asset, resolution }, 'could not read history')
          }
        }),
      ),
    )
    if (!active(t)) return
    await Promise.all(pollers.map((p) => p.refreshMarkets()))
    if (!active(t)) return
    startStreams(t)
    const termLoop = new PollLoop({
      pollers,
      pollMs: config.pollMs,
      cycleWaitMs: Math.max(50, Math.min(config.requestTimeoutMs, Math.floor(config.pollMs / 2))),
      onTicks: (result) => onTicks(result, t),
      onCycle: () => {
        coalescer.mark(registry.ids())
        // Market lists are reloaded hourly: streams follow (the same set is a no-op).
        for (const p of pollers) streams.get(p.id)?.setMarkets(p.activeMarkets())
      },
      logger,
    })
    loop = termLoop
    await termLoop.cycle(undefined, false)
    if (!active(t)) return
    await Promise.all([backfill(t), marketData?.refresh()])
    if (!active(t)) return
    coalescer.resume()
    live = true
    coalescer.mark(ids)
    termLoop.start()
    marketData?.start()
  }

  function endTerm(): void {
    term++
    live = false
    stopStreams()
    loop?.stop()
    loop = undefined
    coalescer.stop()
    marketData?.stop()
    table.clear()
    book.clear()
    lastPublished.clear()
  }

  function onTicks(result: PollResult, t: number): void {
    if (!active(t)) return
    table.put(result.ticks)
  }

  /**
   * The poll interval of a streaming source: config.streams.reconcileMs, but at most half the
   * freshness limit, so that a market the stream pushes rarely (quiet OKX pairs push only on
   * trades) is refreshed by REST before its tick goes stale.
   */
  function reconcileIntervalMs(): number {
    return Math.max(config.pollMs, Math.min(config.streams.reconcileMs, Math.floor(config.staleMs / 2)))
  }

  /** Opens the live stream of every source that has one (leader only, once per term). */
  function startStreams(t: number): void {
    for (const p of pollers) {
      const stream = createStream(p.id, config, {
        ...options.streamTuning,
        logger,
        metrics,
        onTicks: (ticks) => onStreamTicks(ticks, t),
        onHealth: (healthy) => onStreamHealth(p, healthy, t),
      })
      if (!stream) continue
      streams.set(p.id, stream)
      logger.info(
        { source: p.id, markets: p.activeMarkets().length },
        `${p.id}: opening the live exchange stream`,
      )
      stream.setMarkets(p.activeMarkets())
    }
  }

  function stopStreams(): void {
    for (const s of streams.values()) s.close()
    streams.clear()
    for (const p of pollers) p.setStreaming(false)
  }

  /** Streamed ticks (validated by the stream decoder like polled rows) join the same table and publish path. */
  function onStreamTicks(ticks: Tick[], t: number): void {
    if (!active(t)) return
    const changed = table.put(ticks, 'stream')
    if (live && changed.size > 0) coalescer.mark(changed)
  }

  /** Healthy: the source's polling slows to reconciliation. Not: full rate at once (an extra cycle now). */
  function onStreamHealth(poller: SourcePoller, healthy: boolean, t: number): void {
    if (!active(t)) return
    poller.setStreaming(healthy)
    if (!healthy) loop?.kick()
  }

  /**
   * The stablecoin rates that backfilled candles are converted with. The first cycle stops waiting
   * after cycleWaitMs, so a slow stablecoin market may not have answered yet; converting at 1:1 would
   * leave a day of history off by the stablecoin's spread. So wait for it a little (at most one
   * request timeout), and only when an asset that needs backfill is quoted in a stablecoin whose
   * rate a polled, listed market gives.
   */
  async function backfillRates(t: number): Promise<StableRates> {
    const now = Date.now()
    const needing = registry
      .ids()
      .filter((a) => RESOLUTIONS.some((r) => needsBackfill(book.get(a, r), r, now)))
    const quotes = new Set(needing.flatMap((a) => index.assetMarkets(a).map((m) => m.quote)))
    const learnable = STABLECOIN_MARKETS.filter(
      (s) =>
        quotes.has(s.coin) &&
        pollers.some((p) => p.id === s.source && p.breaker.state === 'closed' && p.lists(s.market)),
    ).map((s) => s.coin)
    const deadline = now + config.requestTimeoutMs
    for (;;) {
      const rates = stablecoinRates(table.stablecoinTicks(), Date.now(), config.staleMs)
      if (learnable.every((coin) => rates[coin] !== null) || Date.now() >= deadline || !active(t))
        return rates
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }

  async function backfill(t: number): Promise<void> {
    const rates = await backfillRates(t)
    await Promise.all(
      registry.ids().map((asset) => {
        const candidates = index
          .assetMarkets(asset)
          .map((m) => ({ ...m, poller: pollers.find((p) => p.id === m.source) }))
          .filter((m) => m.poller && m.poller.breaker.state === 'closed' && m.poller.lists(m.market))
          .map((m) => ({ source: m.poller!.source, market: m.market, quote: m.quote }))
        return backfillAsset({
          asset,
          candidates,
          rates,
          engine,
          book,
          logger,
          active: () => active(t),
        }).catch((err: unknown) => logger.warn({ err, asset }, 'backfill failed'))
      }),
    )
  }

  /** Aggregates the given assets from the latest ticks and publishes what changed, in one batch; returns the assets published. */
  async function publish(assets: readonly string[], t: number): Promise<string[]> {
    if (!active(t)) return []
    const now = Date.now()
    const rates = stablecoinRates(table.stablecoinTicks(), now, config.staleMs)
    const quotes: Quote[] = []
    const writes: HistoryWrite[] = []
    const closed: HistoryUpdate[] = []
    for (const id of assets) {
      const asset = registry.get(id)
      if (!asset) continue
      const previous = lastPublished.get(id)
      const points5m = book.get(id, '5m')
      const result = aggregateQuote({
        asset,
        ticks: table.forAsset(id),
        now,
        staleMs: config.staleMs,
        outlierPct: config.outlierPct,
        rates,
        previous,
        seq: (previous?.seq ?? 0) + 1,
        price24hAgo: price24hAgo(points5m, now),
        volatility24h: volatility24h(points5m, now),
        circulatingSupply: marketData?.get(id)?.circulatingSupply ?? asset.circulatingSupply ?? null,
      })
      noteOutliers(id, result.rejected, result.accepted)
      if (result.error)
        logger.error(
          { asset: id, error: result.error },
          'aggregation produced an invalid quote: not published',
        )
      const quote =
        result.quote && !result.quote.stale
          ? {
              ...result.quote,
              volatility24h: volatility24h(withLatest(points5m, result.quote.price, now), now),
            }
          : result.quote
      if (!quote) continue
      // The same values again: nothing new at all (same tick times too), or only newer tick times
      // (a reconciliation poll, a stream's repeat), worth a publish only to keep the quote fresh,
      // so not more often than refreshMs: it would spend the push budget a real change needs.
      if (
        previous &&
        sameContent(previous, quote, false) &&
        (now - previous.updatedAt < refreshMs || sameContent(previous, quote, true))
      )
        continue
      if (!quote.stale) {
        const recorded = book.record(id, quote.price, now)
        writes.push(...recorded.writes)
        closed.push(...recorded.closed)
      }
      quotes.push(quote)
      lastPublished.set(id, quote)
    }
    if (quotes.length === 0 && closed.length === 0) return []
    if (!active(t)) return []
    await Promise.all([
      engine.setQuotes(quotes).catch((err: unknown) => logger.warn({ err }, 'could not store quotes')),
      ...writes.map((w) =>
        engine
          .appendHistory(w.asset, w.resolution, [w.point])
          .catch((err: unknown) => logger.warn({ err, asset: w.asset }, 'could not store history')),
      ),
    ])
    if (!active(t)) return []
    await engine
      .publish({ origin: config.nodeId, publishedAt: Date.now(), quotes, history: closed })
      .catch((err: unknown) => logger.warn({ err }, 'could not publish quotes'))
    return quotes.map((q) => q.asset)
  }

  function noteOutliers(
    asset: string,
    rejected: readonly { source: SourceId; market: string; price: number }[],
    accepted: readonly { source: SourceId; market: string }[],
  ): void {
    for (const r of rejected) {
      metrics.outliersRejected.inc({ source: r.source })
      const key = `${r.source}:${r.market}`
      if (!rejectedMarkets.has(key)) {
        rejectedMarkets.add(key)
        logger.warn(
          { asset, source: r.source, market: r.market, price: r.price },
          `${asset}: ${r.source} ${r.market} rejected as an outlier`,
        )
      }
    }
    for (const a of accepted) rejectedMarkets.delete(`${a.source}:${a.market}`)
  }

  return {
    async start() {
      if (started) return
      started = true
      buildSources()
      await lease.start()
      if (warmup) {
        const bound = Math.max(2_000, config.requestTimeoutMs * 2)
        let timer: NodeJS.Timeout | undefined
        await Promise.race([warmup, new Promise((r) => (timer = setTimeout(r, bound)))])
        clearTimeout(timer)
        await coalescer.idle()
      }
    },

    async stop() {
      if (!started) return
      started = false
      const current = loop
      await lease.stop()
      await current?.drain()
      await warmup?.catch(() => {})
      await coalescer.idle()
      await Promise.allSettled([...pollers.map((p) => p.source.close()), marketData?.close()])
      pollers = []
      marketData = undefined
    },

    isLeader: () => lease.isLeader(),

    sources: () =>
      pollers.map((p) => ({
        source: p.id,
        breaker: p.breaker.state,
        markets: p.activeMarkets(),
        streaming: p.isStreaming,
      })),
  }
}

/** Same quote apart from seq and updatedAt: nothing new to publish. */
/** Equal apart from seq and updatedAt, and (unless `sourceTimes`) the sources' tick times. */
function sameContent(a: Quote, b: Quote, sourceTimes: boolean): boolean {
  const key = (q: Quote) =>
    JSON.stringify({
      ...q,
      seq: 0,
      updatedAt: 0,
      sources: sourceTimes ? q.sources : q.sources.map((s) => ({ ...s, ts: 0 })),
    })
  return key(a) === key(b)
}
