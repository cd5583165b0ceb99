import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../server/config.js'

describe('config', () => {
  it('has defaults: memory engine, all real sources, port 8080', () => {
    const c = loadConfig({})
    expect(c.port).toBe(8080)
    expect(c.redisUrl).toBeUndefined()
    expect(c.sources).toEqual([
      'binance',
      'okx',
      'bybit',
      'mexc',
      'gate',
      'kucoin',
      'coinbase',
      'kraken',
      'coingecko',
    ])
    expect(c.sources).not.toContain('simulated')
    expect(c.rateLimit).toBe(600)
    expect(c.ws.maxPerIp).toBe(50)
    expect(c.allowedOrigins).toEqual(['*'])
  })

  it.each([
    [{ PORT: 'abc' }, /^PORT="abc" is invalid: expected an integer from 0 to 65535$/],
    [{ PORT: '70000' }, /^PORT="70000"/],
    [{ REDIS_URL: 'http://localhost' }, /^REDIS_URL=.*redis:\/\//],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL="loud"/],
    [{ PRICEWIRE_SOURCES: 'binance,nasdaq' }, /^PRICEWIRE_SOURCES=.*comma list of: binance/],
    [{ PRICEWIRE_POLL_MS: '10' }, /^PRICEWIRE_POLL_MS="10".*from 100/],
    [{ PRICEWIRE_SOURCE_URL_BINANCE: 'ftp://x' }, /^PRICEWIRE_SOURCE_URL_BINANCE=.*http/],
    [{ PRICEWIRE_SOURCE_URL_NASDAQ: 'http://127.0.0.1:1' }, /^PRICEWIRE_SOURCE_URL_NASDAQ=.*suffix/],
    [{ PRICEWIRE_SOURCE_WS_URL_OKX: 'http://x' }, /^PRICEWIRE_SOURCE_WS_URL_OKX=.*ws/],
    [{ PRICEWIRE_RATE_LIMIT: '-1' }, /^PRICEWIRE_RATE_LIMIT="-1"/],
  ])('rejects %o naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(message)
  })

  it('parses lists, URLs and trust proxy forms', () => {
    const c = loadConfig({
      PRICEWIRE_SOURCES: ' binance , kraken,binance',
      PRICEWIRE_SOURCE_URL_BINANCE: 'http://127.0.0.1:9001/',
      PRICEWIRE_SOURCE_WS_URL_BINANCE: 'ws://127.0.0.1:9002',
      PRICEWIRE_ALLOWED_ORIGINS: 'https://a.example, https://b.example',
      PRICEWIRE_TRUST_PROXY: '1',
      REDIS_URL: 'redis://127.0.0.1:6380',
    })
    expect(c.sources).toEqual(['binance', 'kraken'])
    expect(c.sourceUrls).toEqual({ binance: 'http://127.0.0.1:9001' })
    expect(c.sourceWsUrls).toEqual({ binance: 'ws://127.0.0.1:9002' })
    expect(c.allowedOrigins).toEqual(['https://a.example', 'https://b.example'])
    expect(c.trustProxy).toBe(1)
    expect(loadConfig({ PRICEWIRE_TRUST_PROXY: 'true' }).trustProxy).toBe(true)
    expect(loadConfig({ PRICEWIRE_TRUST_PROXY: '10.0.0.0/8,127.0.0.1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
    ])
    expect(c.redisUrl).toBe('redis://127.0.0.1:6380')
  })
})
