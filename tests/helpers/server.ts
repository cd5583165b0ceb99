import { configFrom } from '../../server/config.js'
import { type RunningServer, startServer } from '../../server/server.js'

/** The whole server in this process on a free port (memory engine unless REDIS_URL is given). */
export async function startTestServer(vars: Record<string, string> = {}): Promise<RunningServer> {
  return startServer(configFrom({ PORT: '0', HOST: '127.0.0.1', PRICEWIRE_SOURCES: 'simulated', ...vars }))
}
