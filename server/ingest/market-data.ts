import type { Logger } from 'pino'
import type { AssetRegistry } from '../assets.js'
import type { CoinGeckoClient, CoinGeckoMarketData } from '../sources/coingecko.js'
import { SourceError } from '../sources/source.js'

/**
 * CoinGecko market data (circulating supply, market cap, logo) for the registry's assets, polled
 * by the leader at its own, slower interval. Failures keep the last data; Retry-After is honoured.
 */
export class MarketDataPoller {
  private data = new Map<string, CoinGeckoMarketData>()
  private timer: NodeJS.Timeout | undefined
  private notBefore = 0
  private failing = false
  private running = false

  constructor(
    private readonly client: CoinGeckoClient,
    private readonly registry: AssetRegistry,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  /** Market data of an asset, by registry id. */
  get(assetId: string): CoinGeckoMarketData | undefined {
    const id = this.registry.get(assetId)?.coingeckoId
    return id ? this.data.get(id) : undefined
  }

  /** Fetches once now; resolves whatever happens. */
  async refresh(): Promise<void> {
    if (Date.now() < this.notBefore) return
    const ids = this.registry.assets.map((a) => a.coingeckoId).filter((id): id is string => !!id)
    if (ids.length === 0) return
    try {
      const fetched = await this.client.fetchMarketData(ids)
      this.data = new Map([...this.data, ...fetched])
      if (this.failing) this.logger.info('coingecko: market data recovered')
      this.failing = false
    } catch (err) {
      if (err instanceof SourceError && err.retryAfterMs !== undefined)
        this.notBefore = Date.now() + err.retryAfterMs
      if (!this.failing)
        this.logger.warn({ err: (err as Error).message }, 'coingecko: market data unavailable')
      this.failing = true
    }
  }

  start(): void {
    if (this.running) return
    this.running = true
    const loop = async () => {
      await this.refresh()
      if (this.running) this.timer = setTimeout(loop, this.intervalMs)
    }
    this.timer = setTimeout(loop, this.intervalMs)
  }

  stop(): void {
    this.running = false
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  close(): Promise<void> {
    this.stop()
    return this.client.close()
  }
}
