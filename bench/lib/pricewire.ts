import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from '../../tests/helpers/free-port.js'
import { type Child, ROOT, startChild, waitForHttp } from './children.js'

/** Starting the real server under test in its own process. */

function newestMtime(dir: string): number {
  let t = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    t = Math.max(t, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return t
}

/** The built server (as `npm start` runs it) when it is current, else the sources through tsx. */
export function serverEntry(): string {
  const built = join(ROOT, 'build/server/main.js')
  if (existsSync(built)) {
    const at = statSync(built).mtimeMs
    if (newestMtime(join(ROOT, 'server')) <= at && newestMtime(join(ROOT, 'shared')) <= at)
      return 'build/server/main.js'
  }
  return 'server/main.ts'
}

/** Asset ids a01…aNN. */
export function benchAssetIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `a${String(i + 1).padStart(2, '0')}`)
}

/** A registry of `count` synthetic assets with no exchange markets: only the simulated source prices them. */
export function writeBenchRegistry(dir: string, count = 20): string {
  const file = join(dir, 'assets.json')
  const assets = benchAssetIds(count).map((id, i) => ({
    id,
    symbol: id.toUpperCase(),
    name: `Bench Asset ${i + 1}`,
    markets: [],
  }))
  writeFileSync(file, JSON.stringify({ assets }, null, 2))
  return file
}

export interface RunningPricewire {
  child: Child
  url: string
  port: number
  entry: string
  stop(): Promise<void>
}

export interface StartOptions {
  name?: string
  env: Record<string, string>
  /** Write a .cpuprofile here on exit. */
  profileDir?: string
  raiseFileLimit?: boolean
  /** Wait for /readyz (engine reachable) as well as /healthz. */
  waitReady?: boolean
}

export async function startPricewire(opts: StartOptions): Promise<RunningPricewire> {
  const port = await freePort()
  const entry = serverEntry()
  const child = startChild({
    name: opts.name ?? 'pricewire server',
    entry,
    raiseFileLimit: opts.raiseFileLimit,
    nodeFlags: opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', opts.profileDir] : [],
    env: {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PRICEWIRE_RATE_LIMIT: '0',
      PRICEWIRE_WS_MAX_PER_IP: '0',
      ...opts.env,
      PORT: String(port),
    },
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/healthz`, 30_000, child)
  if (opts.waitReady) await waitForHttp(`${url}/readyz`, 15_000, child)
  // SIGTERM runs the graceful shutdown, which lets --cpu-prof write its file.
  return { child, url, port, entry, stop: () => child.stop(15_000) }
}
