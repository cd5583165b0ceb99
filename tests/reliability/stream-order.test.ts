import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PushApp, startPushApp } from '../helpers/push-app.js'
import { makeQuote } from '../helpers/quotes.js'
import { StreamClient } from '../helpers/ws-client.js'

/**
 * Found by the soak: on the leader node the mirror holds a quote as soon as it is stored, before
 * the bus brings it back to the hub; a client subscribing in between got it in its snapshot and
 * then again as an update (seq not going up on one connection). The hub now skips that delivery.
 */

let s: PushApp
beforeAll(async () => {
  s = await startPushApp()
})
afterAll(async () => {
  await s?.close()
})

describe('seq on one connection', () => {
  it('a quote already in the snapshot is not sent again as an update; newer ones are', async () => {
    await s.publish([makeQuote('btc', { seq: 1, price: 100 })])
    const c = await StreamClient.open(s.wsUrl)
    await c.subscribe(['eth'])
    // The leader stores seq 2 (the mirror has it) before it publishes it.
    await s.engine.setQuotes([makeQuote('btc', { seq: 2, price: 101 })])
    const snapshot = await c.subscribe(['btc'])
    expect(snapshot.quotes.map((q) => q.seq)).toEqual([2])
    await s.publish([makeQuote('btc', { seq: 2, price: 101 })])
    await s.publish([makeQuote('btc', { seq: 3, price: 102 }), makeQuote('eth', { seq: 1, price: 5 })])
    const update = await c.next('quotes')
    expect(update.quotes.map((q) => [q.asset, q.seq])).toEqual([
      ['btc', 3],
      ['eth', 1],
    ])
    // Another client, subscribed before, got every one of them.
    const d = await StreamClient.open(s.wsUrl)
    await d.subscribe(['btc'])
    await s.publish([makeQuote('btc', { seq: 4, price: 103 })])
    expect((await d.next('quotes')).quotes[0]!.seq).toBe(4)
    expect((await c.next('quotes')).quotes[0]!.seq).toBe(4)
    c.terminate()
    d.terminate()
  })
})
