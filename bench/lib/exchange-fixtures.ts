import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SourceId } from '../../shared/quote.js'
import { FakeExchange, type FakeRoute } from '../../tests/helpers/fake-exchange.js'
import { ROOT } from './children.js'

/**
 * Fake exchanges serving the recorded responses the adapter engineers keep in tests/fixtures/<exchange>/,
 * on each exchange's real paths. `tickerPaths` tells which requests are ticker polls.
 */

const fixture = (exchange: string, name: string): unknown =>
  JSON.parse(readFileSync(join(ROOT, 'tests/fixtures', exchange, name), 'utf8'))

const json = (body: unknown): FakeRoute => ({ kind: 'json', body })

export interface FixtureExchange {
  id: SourceId
  routes: Record<string, FakeRoute>
  /** Is this path one of the exchange's ticker (poll) endpoints? */
  isTickerPath(path: string): boolean
}

function binanceLike(id: 'binance' | 'mexc'): FixtureExchange {
  return {
    id,
    routes: {
      '/api/v3/ticker/24hr': json(fixture(id, 'tickers.json')),
      '/api/v3/exchangeInfo': json(fixture(id, 'exchange-info.json')),
      '/api/v3/klines': json(fixture(id, 'klines.json')),
    },
    isTickerPath: (p) => p === '/api/v3/ticker/24hr',
  }
}

function coinbase(): FixtureExchange {
  const stats = fixture('coinbase', 'stats.json') as Record<string, unknown>
  const ticker = fixture('coinbase', 'ticker.json') as Record<string, unknown>
  const routes: Record<string, FakeRoute> = { '/products': json(fixture('coinbase', 'products.json')) }
  for (const product of Object.keys(stats)) {
    routes[`/products/${product}/stats`] = json(stats[product])
    routes[`/products/${product}/ticker`] = json(ticker[product])
    routes[`/products/${product}/candles`] = json(fixture('coinbase', 'candles.json'))
  }
  return { id: 'coinbase', routes, isTickerPath: (p) => /^\/products\/[^/]+\/(stats|ticker)$/.test(p) }
}

export function fixtureExchanges(): FixtureExchange[] {
  return [
    binanceLike('binance'),
    {
      id: 'okx',
      routes: {
        '/api/v5/market/tickers': json(fixture('okx', 'tickers.json')),
        '/api/v5/public/instruments': json(fixture('okx', 'instruments.json')),
        '/api/v5/market/candles': json(fixture('okx', 'candles.json')),
        '/api/v5/market/history-candles': json(fixture('okx', 'candles.json')),
      },
      isTickerPath: (p) => p === '/api/v5/market/tickers',
    },
    {
      id: 'bybit',
      routes: {
        '/v5/market/tickers': json(fixture('bybit', 'tickers.json')),
        '/v5/market/instruments-info': json(fixture('bybit', 'instruments.json')),
        '/v5/market/kline': json(fixture('bybit', 'kline.json')),
      },
      isTickerPath: (p) => p === '/v5/market/tickers',
    },
    binanceLike('mexc'),
    {
      id: 'gate',
      routes: {
        '/api/v4/spot/tickers': json(fixture('gate', 'tickers.json')),
        '/api/v4/spot/currency_pairs': json(fixture('gate', 'currency_pairs.json')),
        '/api/v4/spot/candlesticks': json(fixture('gate', 'candlesticks.json')),
      },
      isTickerPath: (p) => p === '/api/v4/spot/tickers',
    },
    {
      id: 'kucoin',
      routes: {
        '/api/v1/market/allTickers': json(fixture('kucoin', 'allTickers.json')),
        '/api/v2/symbols': json(fixture('kucoin', 'symbols.json')),
        '/api/v1/market/candles': json(fixture('kucoin', 'candles.json')),
      },
      isTickerPath: (p) => p === '/api/v1/market/allTickers',
    },
    coinbase(),
    {
      id: 'kraken',
      routes: {
        '/0/public/Ticker': json(fixture('kraken', 'Ticker.json')),
        '/0/public/AssetPairs': json(fixture('kraken', 'AssetPairs.json')),
        '/0/public/OHLC': json(fixture('kraken', 'OHLC.json')),
      },
      isTickerPath: (p) => p === '/0/public/Ticker',
    },
    {
      id: 'coingecko',
      routes: { '/api/v3/coins/markets': json(fixture('coingecko', 'coins-markets.json')) },
      isTickerPath: (p) => p === '/api/v3/coins/markets',
    },
  ]
}

export interface RunningFakes {
  fakes: { spec: FixtureExchange; fake: FakeExchange }[]
  /** PRICEWIRE_SOURCE_URL_<ID> for each. */
  env: Record<string, string>
  stop(): Promise<void>
}

export async function startFixtureExchanges(specs = fixtureExchanges()): Promise<RunningFakes> {
  const fakes = await Promise.all(
    specs.map(async (spec) => ({ spec, fake: await new FakeExchange(spec.routes).start() })),
  )
  const env: Record<string, string> = {}
  for (const { spec, fake } of fakes) env[`PRICEWIRE_SOURCE_URL_${spec.id.toUpperCase()}`] = fake.url
  return { fakes, env, stop: () => Promise.all(fakes.map((f) => f.fake.stop())).then(() => {}) }
}
