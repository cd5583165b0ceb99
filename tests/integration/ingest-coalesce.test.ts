import { describe, expect, it } from 'vitest'
import { Coalescer } from '../../server/ingest/coalesce.js'
import { sleep } from './ingest-exchanges.js'

/** The coalescer that polled (and, later, streamed) updates go through before publishing. */
describe('Coalescer', () => {
  it('batches keys marked in the same turn into one flush', async () => {
    const flushes: string[][] = []
    const c = new Coalescer({ maxPerSec: 4, flush: async (keys) => void flushes.push(keys) })
    c.mark(['pol'])
    c.mark(['talus', 'pol'])
    await c.idle()
    expect(flushes).toEqual([['pol', 'talus']])
  })

  it('flushes a key at most maxPerSec times a second and always delivers the latest value', async () => {
    const latest = { value: 0 }
    const seen: { at: number; value: number }[] = []
    const c = new Coalescer({
      maxPerSec: 4,
      flush: async () => void seen.push({ at: Date.now(), value: latest.value }),
    })
    const started = Date.now()
    while (Date.now() - started < 1000) {
      latest.value++
      c.mark(['pol'])
      await sleep(5)
    }
    const final = latest.value
    await sleep(300)
    await c.idle()
    expect(seen.length).toBeGreaterThanOrEqual(4)
    expect(seen.length).toBeLessThanOrEqual(6)
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.at - seen[i - 1]!.at).toBeGreaterThanOrEqual(249)
    expect(seen[seen.length - 1]!.value).toBe(final)
  })

  it('limits each key on its own: a busy key does not hold back another', async () => {
    const flushes: { at: number; keys: string[] }[] = []
    const c = new Coalescer({
      maxPerSec: 2,
      flush: async (keys) => void flushes.push({ at: Date.now(), keys }),
    })
    c.mark(['btc'])
    await sleep(20)
    c.mark(['btc'])
    c.mark(['pol'])
    await sleep(50)
    expect(flushes.map((f) => f.keys)).toEqual([['btc'], ['pol']])
    await sleep(550)
    expect(flushes.map((f) => f.keys)).toEqual([['btc'], ['pol'], ['btc']])
    expect(flushes[2]!.at - flushes[0]!.at).toBeGreaterThanOrEqual(499)
  })

  it('drops pending work on stop and never overlaps flushes', async () => {
    let running = 0
    let maxRunning = 0
    let count = 0
    const c = new Coalescer({
      maxPerSec: 1000,
      flush: async () => {
        running++
        maxRunning = Math.max(maxRunning, running)
        await sleep(30)
        running--
        count++
      },
    })
    for (let i = 0; i < 10; i++) {
      c.mark([`k${i}`])
      await sleep(5)
    }
    await c.idle()
    expect(maxRunning).toBe(1)
    c.stop()
    c.mark(['x'])
    const before = count
    await sleep(50)
    expect(count).toBe(before)
  })
})
