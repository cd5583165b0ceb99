import { type ChildProcess, spawn } from 'node:child_process'
import { createConnection } from 'node:net'
import { freePort } from './free-port.js'

/** A private redis-server on a free port, for one test file. Never a mock. */
export interface TestRedis {
  port: number
  url: string
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>
  /** Starts it again on the same port (empty: it keeps nothing on disk). */
  restart(): Promise<void>
  stop(): Promise<void>
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort()
  let proc: ChildProcess | undefined
  const launch = async () => {
    proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    )
    proc.on('error', () => {})
    await waitForPort(port, 5_000)
  }
  const halt = async (signal: NodeJS.Signals) => {
    const p = proc
    proc = undefined
    if (!p || p.exitCode !== null) return
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve())
      p.kill(signal)
    })
  }
  await launch()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => halt('SIGKILL'),
    restart: launch,
    stop: () => halt('SIGTERM'),
  }
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => {
        s.end()
        resolve(true)
      })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(
    `redis-server did not listen on ${port} within ${timeoutMs} ms (is redis-server installed?)`,
  )
}
