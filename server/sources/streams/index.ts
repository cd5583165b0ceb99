import type { SourceId } from '../../../shared/quote.js'
import type { Config } from '../../config.js'
import { binanceProtocol } from './binance.js'
import { bybitProtocol } from './bybit.js'
import { coinbaseProtocol } from './coinbase.js'
import { createExchangeStream, type StreamClientOptions, type TickStream } from './exchange-stream.js'
import { krakenProtocol } from './kraken.js'
import { okxProtocol } from './okx.js'
import type { StreamProtocol } from './protocol.js'

export type { StreamClientOptions, TickStream } from './exchange-stream.js'

/** The exchanges with a live ticker stream. */
export const STREAM_PROTOCOLS: Partial<Record<SourceId, StreamProtocol>> = {
  binance: binanceProtocol,
  okx: okxProtocol,
  bybit: bybitProtocol,
  kraken: krakenProtocol,
  coinbase: coinbaseProtocol,
}

/**
 * Whether `id` is streamed under this config: streams on, the exchange has one, and (so that a test
 * or a proxy never mixes a faked REST API with the real exchange's stream) its WS URL is overridden
 * whenever its REST URL is.
 */
export function streamsFor(id: SourceId, config: Config): boolean {
  if (!config.streams.enabled || !STREAM_PROTOCOLS[id]) return false
  return config.sourceUrls[id] === undefined || config.sourceWsUrls[id] !== undefined
}

/** The live stream of a source, configured from config; undefined when it is not streamed. */
export function createStream(
  id: SourceId,
  config: Config,
  opts: Omit<StreamClientOptions, 'url' | 'silenceMs'>,
): TickStream | undefined {
  const protocol = STREAM_PROTOCOLS[id]
  if (!protocol || !streamsFor(id, config)) return undefined
  return createExchangeStream(protocol, {
    ...opts,
    url: config.sourceWsUrls[id],
    silenceMs: config.streams.silenceMs,
  })
}
