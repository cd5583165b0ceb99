import { afterEach, describe, expect, it } from 'vitest'
import { loadRegistry } from '../../server/assets.js'
import { configFrom } from '../../server/config.js'
import type { QuoteBatch } from '../../server/engine/engine.js'
import { MemoryEngine } from '../../server/engine/memory.js'
import { createIngest, type Ingest } from '../../server/ingest/ingest.js'
import { createMetrics } from '../../server/metrics.js'
import { Quote } from '../../shared/quote.js'
import { waitFor } from '../helpers/quotes.js'
import { captureLogger, TEST_ENV } from './ingest-exchanges.js'

let ingest: Ingest | undefined
afterEach(async () => {
  await ingest?.stop()
  ingest = undefined
})

describe('ingest with the simulated source (npm run demo)', () => {
  it('is never on unless asked for', () => {
    expect(configFrom({}).sources).not.toContain('simulated')
  })

  it('publishes simulated quotes for the default registry with history, change24h and volatility at once', async () => {
    const config = configFrom({
      ...TEST_ENV,
      PRICEWIRE_SOURCES: 'simulated',
      PRICEWIRE_PUSH_MAX_PER_SEC: '20',
    })
    const engine = new MemoryEngine()
    const registry = loadRegistry(undefined)
    const batches: QuoteBatch[] = []
    engine.subscribe((b) => batches.push(b))
    ingest = createIngest({
      config,
      engine,
      registry,
      metrics: createMetrics(),
      logger: captureLogger().logger,
    })
    await ingest.start()

    const quotes = await engine.getQuotes(registry.ids())
    for (const q of quotes) {
      expect(Quote.parse(q)).toEqual(q)
      expect(q).toMatchObject({ simulated: true, stale: false, approximate: false })
      expect(q!.change24h).not.toBeNull()
      expect(q!.open24h).not.toBeNull()
      expect(q!.volatility24h!).toBeGreaterThan(0)
      expect(q!.sources).toEqual([expect.objectContaining({ source: 'simulated', market: q!.asset })])
      expect((await engine.readHistory(q!.asset, '5m', 0)).length).toBeGreaterThanOrEqual(288)
      expect((await engine.readHistory(q!.asset, '1h', 0)).length).toBeGreaterThanOrEqual(168)
    }
    const byId = Object.fromEntries(quotes.map((q) => [q!.asset, q!.price]))
    expect(byId.btc).toBeGreaterThan(90_000)
    expect(byId.talus).toBeLessThan(0.02)

    // It ticks every pollMs: prices move and seq grows.
    await waitFor(() => batches.filter((b) => b.quotes.some((q) => q.asset === 'pol')).length >= 5, 3000)
    const pol = batches.flatMap((b) => b.quotes.filter((q) => q.asset === 'pol'))
    expect(new Set(pol.map((q) => q.price)).size).toBeGreaterThan(1)
    for (let i = 1; i < pol.length; i++) expect(pol[i]!.seq).toBe(pol[i - 1]!.seq + 1)
  })
})
