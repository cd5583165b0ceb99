import type { SourceId } from '../../shared/quote.js'
import type { Config } from '../config.js'
import type { Metrics } from '../metrics.js'
import { createBinanceSource } from './binance.js'
import { createBybitSource } from './bybit.js'
import { createCoinbaseSource } from './coinbase.js'
import { createGateSource } from './gate.js'
import { createKrakenSource } from './kraken.js'
import { createKucoinSource } from './kucoin.js'
import { createMexcSource } from './mexc.js'
import { createOkxSource } from './okx.js'
import type { Source, SourceOptions } from './source.js'

type ExchangeFactory = (opts: SourceOptions) => Source

const EXCHANGE_FACTORIES: Partial<Record<SourceId, ExchangeFactory>> = {
  binance: createBinanceSource,
  okx: createOkxSource,
  bybit: createBybitSource,
  mexc: createMexcSource,
  gate: createGateSource,
  kucoin: createKucoinSource,
  coinbase: createCoinbaseSource,
  kraken: createKrakenSource,
}

/**
 * The ticker source for an id, configured from config (base URL override, request timeout).
 * Undefined for ids that are not exchange ticker sources built here ('coingecko', 'simulated').
 */
export function createSource(id: SourceId, config: Config, metrics?: Metrics): Source | undefined {
  const factory = EXCHANGE_FACTORIES[id]
  if (!factory) return undefined
  return factory({ baseUrl: config.sourceUrls[id], timeoutMs: config.requestTimeoutMs, metrics })
}
