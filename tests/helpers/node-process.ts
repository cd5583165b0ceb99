import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { freePort } from './free-port.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** One pino line of the server, parsed (non-JSON lines are kept as { msg }). */
export type LogLine = Record<string, unknown> & { msg?: string; time?: number }

export interface NodeProcess {
  /** PRICEWIRE_NODE_ID of the process. */
  id: string
  port: number
  /** http://127.0.0.1:port */
  url: string
  /** ws://127.0.0.1:port/v1/stream */
  wsUrl: string
  pid: number
  /** Every stdout line (pino JSON), in order. */
  readonly logs: LogLine[]
  /** stderr, as text (warnings, a configuration error). */
  stderr(): string
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  readonly exited: Promise<number | string>
  /** The first log line matching, waiting for it (rejects on timeout or when the process exits first). */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>
  /** SIGKILL, as a crash would: no shutdown code runs. */
  kill(): Promise<void>
  /** SIGTERM: graceful shutdown (1001 to clients, lock released). Resolves with the exit code. */
  stop(): Promise<number | string>
}

export interface NodeProcessOptions {
  id: string
  /** Extra environment (REDIS_URL, PRICEWIRE_SOURCES, PRICEWIRE_SOURCE_URL_<ID>…). */
  env?: Record<string, string>
  /** How long to wait for /healthz (default 20 s: tsx compiles on first start). */
  readyTimeoutMs?: number
}

/**
 * A real server process: `node --import tsx server/main.ts` (from source, no build step; tsx is a
 * dev dependency and loads in the same process, so SIGKILL kills the server itself, not a wrapper).
 * Listens on a free loopback port, logs JSON at debug level, resolves once /healthz answers 200.
 * The environment is the given one only (plus PATH/HOME), never the test runner's.
 */
export async function startNodeProcess(opts: NodeProcessOptions): Promise<NodeProcess> {
  const port = await freePort()
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    PRICEWIRE_NODE_ID: opts.id,
    PRICEWIRE_RATE_LIMIT: '0',
    ...opts.env,
  }
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: LogLine[] = []
  let stderr = ''
  const watchers = new Set<() => void>()
  let partial = ''
  child.stdout!.setEncoding('utf8')
  child.stdout!.on('data', (chunk: string) => {
    partial += chunk
    let nl = partial.indexOf('\n')
    while (nl !== -1) {
      const line = partial.slice(0, nl)
      partial = partial.slice(nl + 1)
      if (line.trim()) logs.push(parseLine(line))
      nl = partial.indexOf('\n')
    }
    for (const w of watchers) w()
  })
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk
  })
  let exitedWith: number | string | undefined
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedWith = code ?? signal ?? 'unknown'
      resolve(exitedWith)
      for (const w of watchers) w()
    })
  })
  live.add(child)
  void exited.then(() => live.delete(child))

  const waitForLog: NodeProcess['waitForLog'] = (match, timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      let seen = 0
      const check = () => {
        for (; seen < logs.length; seen++) {
          if (match(logs[seen]!)) {
            done()
            resolve(logs[seen]!)
            return
          }
        }
        if (exitedWith !== undefined) {
          done()
          reject(new Error(`${opts.id} exited (${exitedWith}) before the awaited log line`))
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`${opts.id}: no matching log line within ${timeoutMs} ms`))
      }, timeoutMs)
      const done = () => {
        clearTimeout(timer)
        watchers.delete(check)
      }
      watchers.add(check)
      check()
    })

  const url = `http://127.0.0.1:${port}`
  try {
    await waitForHealth(url, opts.readyTimeoutMs ?? 20_000, () => exitedWith)
  } catch (err) {
    child.kill('SIGKILL')
    throw new Error(`${(err as Error).message}\nstderr: ${stderr.slice(-2000)}`)
  }
  const signal = async (sig: NodeJS.Signals) => {
    if (exitedWith === undefined) child.kill(sig)
    return exited
  }
  return {
    id: opts.id,
    port,
    url,
    wsUrl: `ws://127.0.0.1:${port}/v1/stream`,
    pid: child.pid!,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog,
    kill: async () => {
      await signal('SIGKILL')
    },
    stop: () => signal('SIGTERM'),
  }
}

/** Processes still running: killed when the test runner exits, so none outlives a failed test. */
const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

function parseLine(line: string): LogLine {
  try {
    const parsed = JSON.parse(line) as unknown
    if (typeof parsed === 'object' && parsed !== null) return parsed as LogLine
  } catch {}
  return { msg: line }
}

async function waitForHealth(
  url: string,
  timeoutMs: number,
  exited: () => number | string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const code = exited()
    if (code !== undefined) throw new Error(`the server process exited (${code}) before /healthz answered`)
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) })
      if (res.ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${url}/healthz did not answer 200 within ${timeoutMs} ms`)
}
