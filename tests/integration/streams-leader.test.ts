import { afterEach, describe, expect, it } from 'vitest'
import { MemoryEngine } from '../../server/engine/memory.js'
import { waitFor } from '../helpers/quotes.js'
import { sleep } from './ingest-exchanges.js'
import { type StreamHarness, startStreamHarness } from './streams-harness.js'

/** Only the leader ingests: its streams open with leadership and close when it ends. */

const nodes: StreamHarness[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close()))
})

describe('exchange streams follow leadership', () => {
  it('only the leader streams; when it stops, the new leader opens its own stream', async () => {
    const engine = new MemoryEngine()
    await engine.start()
    const a = await startStreamHarness({ id: 'binance', engine, nodeId: 'node-a' })
    nodes.push(a)
    const b = await startStreamHarness({ id: 'binance', engine, nodeId: 'node-b' })
    nodes.push(b)
    expect(a.ingest.isLeader()).toBe(true)
    expect(b.ingest.isLeader()).toBe(false)
    await waitFor(() => a.ws.open().length === 1)
    await sleep(500)
    expect(b.ws.connections).toHaveLength(0)

    await a.ingest.stop()
    await waitFor(() => a.ws.open().length === 0, 3_000)
    await waitFor(() => b.ingest.isLeader(), 5_000)
    await waitFor(() => b.ws.open().length === 1 && b.ws.subscriptions(b.ws.open()[0]!).includes('POLUSDT'))
    b.push('POLUSDT', 0.2625)
    await waitFor(() => b.quotesOf('pol').at(-1)?.price === 0.2625)
    // Both nodes share the bus: node A's subscriber sees the new leader's quote too.
    await waitFor(() => a.quotesOf('pol').at(-1)?.price === 0.2625)
    expect(a.ws.connections).toHaveLength(1)
  })
})
