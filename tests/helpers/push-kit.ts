import { afterEach } from 'vitest'
import type { ClientOptions } from 'ws'
import { type PushApp, startPushApp } from './push-app.js'
import { waitFor } from './quotes.js'
import { StreamClient } from './ws-client.js'

/**
 * Push apps and stream clients for one test file: each is closed after the test that opened it
 * (clients first, then servers, newest first). Call at the top level of the file.
 */
export function pushTestKit() {
  const open: (PushApp | StreamClient)[] = []
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) {
      if (x instanceof StreamClient) x.terminate()
      else await x.close()
    }
  })
  return {
    /** An app with the stream; with the Redis engine, once the engine is ready. */
    async server(opts: Parameters<typeof startPushApp>[0] = {}): Promise<PushApp> {
      const s = await startPushApp(opts)
      open.push(s)
      if (s.engine.kind === 'redis') await waitFor(() => s.engine.readiness().ready)
      return s
    },
    async client(s: PushApp, options: ClientOptions = {}): Promise<StreamClient> {
      const c = await StreamClient.open(s.wsUrl, options)
      open.push(c)
      return c
    },
  }
}
