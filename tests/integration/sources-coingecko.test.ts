import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMetrics } from '../../server/metrics.js'
import { type CoinGeckoClient, createCoinGeckoClient } from '../../server/sources/coingecko.js'
import { FakeExchange } from '../helpers/fake-exchange.js'

const fixture = <T = unknown>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../fixtures/coingecko/${name}`, import.meta.url), 'utf8'))

const IDS = ['bitcoin', 'polygon-ecosystem-token', 'talus-network']

describe('coingecko client', () => {
  let fake: FakeExchange
  let client: CoinGeckoClient

  beforeEach(async () => {
    fake = await new FakeExchange().start()
    client = createCoinGeckoClient({ baseUrl: fake.url, timeoutMs: 2000 })
  })
  afterEach(async () => {
    await client.close()
    await fake.stop()
  })

  it('polls no faster than once a minute (free-plan limits)', () => {
    expect(client.minPollMs).toBeGreaterThanOrEqual(60_000)
  })

  it('fetches every id in one coins/markets request and maps each row', async () => {
    fake.route('/api/v3/coins/markets', { kind: 'json', body: fixture('coins-markets.json') })
    const data = await client.fetchMarketData(IDS)

    expect(fake.requests).toHaveLength(1)
    const q = fake.requests[0]!.query
    expect(q.get('vs_currency')).toBe('usd')
    expect(q.get('ids')).toBe('bitcoin,polygon-ecosystem-token,talus-network')
    expect(q.get('per_page')).toBe('3')

    expect([...data.keys()].sort()).toEqual([...IDS].sort())
    expect(data.get('polygon-ecosystem-token')).toEqual({
      price: 0.2214,
      marketCap: 1721002331,
      circulatingSupply: 7770115522.1,
      logo: 'https://coin-images.coingecko.com/coins/images/32440/large/polygon.png?1698233684',
    })
    expect(data.get('talus-network')).toMatchObject({ price: 0.01873, marketCap: 39712203 })
  })

  it('drops rows of the wrong shape, counts them, and keeps the others', async () => {
    const metrics = createMetrics()
    const counted = createCoinGeckoClient({ baseUrl: fake.url, timeoutMs: 2000, metrics })
    const rows = fixture<Array<Record<string, unknown>>>('coins-markets.json')
    rows[0]!.market_cap = '1920331882011' // a string where CoinGecko sends a number: format changed
    rows[1]!.image = 'javascript:alert(1)' // never a logo
    rows[1]!.market_cap = 0 // CoinGecko's "unknown"
    rows[2]!.current_price = -1
    rows.push({ symbol: 'no id' })
    fake.route('/api/v3/coins/markets', { kind: 'json', body: rows })
    const data = await counted.fetchMarketData(IDS)

    expect(data.has('bitcoin')).toBe(false)
    expect(data.get('polygon-ecosystem-token')).toMatchObject({ logo: null, marketCap: null, price: 0.2214 })
    expect(data.get('talus-network')).toMatchObject({ price: null, marketCap: 39712203 })
    const dropped = await metrics.sourceDroppedRows.get()
    expect(dropped.values.find((v) => v.labels.source === 'coingecko')?.value).toBe(2)
    await counted.close()
  })

  it('returns only the ids asked for, and makes no request for none', async () => {
    fake.route('/api/v3/coins/markets', { kind: 'json', body: fixture('coins-markets.json') })
    const data = await client.fetchMarketData(['bitcoin'])
    expect([...data.keys()]).toEqual(['bitcoin'])
    expect((await client.fetchMarketData([])).size).toBe(0)
    expect(fake.requests).toHaveLength(1)
  })

  it('rejects a body that is not a list as a schema error, and a 429 as rate_limited', async () => {
    fake.route('/api/v3/coins/markets', { kind: 'json', body: { status: { error_code: 10002 } } })
    await expect(client.fetchMarketData(IDS)).rejects.toMatchObject({ kind: 'schema', source: 'coingecko' })
    fake.route('/api/v3/coins/markets', { kind: 'status', status: 429, headers: { 'retry-after': '60' } })
    await expect(client.fetchMarketData(IDS)).rejects.toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 60_000,
    })
  })

  it('sends the demo API key header only when a key is configured', async () => {
    const seen: IncomingHttpHeaders[] = []
    const body = JSON.stringify(fixture('coins-markets.json'))
    const server = createServer((req, res) => {
      seen.push(req.headers)
      res.writeHead(200, { 'content-type': 'application/json' }).end(body)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const keyed = createCoinGeckoClient({ baseUrl: url, timeoutMs: 2000, apiKey: 'CG-test-key' })
    const keyless = createCoinGeckoClient({ baseUrl: url, timeoutMs: 2000 })
    try {
      await keyed.fetchMarketData(IDS)
      await keyless.fetchMarketData(IDS)
      expect(seen[0]!['x-cg-demo-api-key']).toBe('CG-test-key')
      expect(seen[1]!['x-cg-demo-api-key']).toBeUndefined()
    } finally {
      await keyed.close()
      await keyless.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})
