import { describe, expect, it } from 'vitest'
import { parseRegistry } from '../../server/assets.js'
import { MarketIndex, TickTable } from '../../server/ingest/markets.js'
import type { Tick } from '../../shared/quote.js'

const registry = parseRegistry(
  {
    assets: [
      {
        id: 'pol',
        symbol: 'POL',
        name: 'Polygon',
        markets: [{ source: 'binance', symbol: 'POLUSDT', quote: 'USDT' }],
      },
    ],
  },
  'test',
)

const tick = (last: number, receivedAt: number, ts: number | null = receivedAt): Tick => ({
  source: 'binance',
  market: 'POLUSDT',
  last,
  open24h: null,
  high24h: null,
  low24h: null,
  changePercent24h: null,
  baseVolume: 1000,
  quoteVolume: 1000 * last,
  ts,
  receivedAt,
})

const held = (table: TickTable) => table.forAsset('pol')[0]?.tick.last

describe('tick table', () => {
  it('keeps the newest reading of a market and names the assets it changed', () => {
    const table = new TickTable(new MarketIndex(registry, ['binance']))
    expect([...table.put([tick(0.25, 1_000)])]).toEqual(['pol'])
    expect(held(table)).toBe(0.25)
    // Received earlier, or stamped earlier by the exchange: an older reading never wins.
    expect(table.put([tick(0.2, 900)]).size).toBe(0)
    expect(table.put([tick(0.2, 1_100, 500)]).size).toBe(0)
    expect(held(table)).toBe(0.25)
    table.put([tick(0.26, 1_200)])
    expect(held(table)).toBe(0.26)
  })

  it('a streamed tick outranks polled ones until the stream has been quiet on it for the precedence time', () => {
    const table = new TickTable(new MarketIndex(registry, ['binance']), 15_000)
    table.put([tick(0.25, 10_000)], 'stream')
    // A reconciliation poll 5 s later, stamped later too: the live stream still speaks for the market.
    expect(table.put([tick(0.24, 15_000)], 'poll').size).toBe(0)
    expect(held(table)).toBe(0.25)
    // Streams replace streams at once.
    table.put([tick(0.27, 16_000)], 'stream')
    expect(held(table)).toBe(0.27)
    // The stream went quiet for 15 s: the poll is taken, and the next poll right after it too.
    expect([...table.put([tick(0.28, 31_000)], 'poll')]).toEqual(['pol'])
    expect(table.put([tick(0.29, 31_500)], 'poll').size).toBe(1)
    expect(held(table)).toBe(0.29)
  })

  it('without streams, polls replace each other as before', () => {
    const table = new TickTable(new MarketIndex(registry, ['binance']), 15_000)
    table.put([tick(0.25, 1_000)])
    table.put([tick(0.3, 1_500)])
    expect(held(table)).toBe(0.3)
    table.clear()
    expect(held(table)).toBeUndefined()
  })
})
