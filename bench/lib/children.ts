import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'

/** Child processes of the harness: servers under test, baselines and load generators. */

export const ROOT = new URL('../../', import.meta.url).pathname

export interface ChildOptions {
  /** A name for error messages. */
  name: string
  /** Script path from the repo root; a .ts file runs through tsx. */
  entry: string
  args?: string[]
  env?: Record<string, string>
  /** Open an IPC channel (the child talks with process.send / process.on('message')). */
  ipc?: boolean
  /** Raise the soft open-files limit to the hard one before exec (many sockets in one process). */
  raiseFileLimit?: boolean
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[]
}

export interface ChildMessage {
  type: string
  [key: string]: unknown
}

const BASE_ENV_KEYS = ['PATH', 'HOME', 'TMPDIR', 'LANG'] as const

export class Child {
  readonly proc: ChildProcess
  readonly exited: Promise<number | null>
  private tail = ''
  private readonly inbox: ChildMessage[] = []
  private readonly waiters = new Set<() => void>()
  private exitCode: number | null | undefined

  constructor(readonly opts: ChildOptions) {
    const node = [
      ...(opts.entry.endsWith('.ts') ? ['--import', 'tsx'] : []),
      ...(opts.nodeFlags ?? []),
      join(ROOT, opts.entry),
      ...(opts.args ?? []),
    ]
    const env: Record<string, string> = {}
    for (const k of BASE_ENV_KEYS) if (process.env[k] !== undefined) env[k] = process.env[k]!
    Object.assign(env, opts.env)
    const stdio = ['ignore', 'pipe', 'pipe', ...(opts.ipc ? ['ipc' as const] : [])] as const
    // exec keeps the pid, so /proc/<pid> readings are the node process itself, not the shell.
    this.proc = opts.raiseFileLimit
      ? spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"', process.execPath, ...node], {
          cwd: ROOT,
          env,
          stdio: [...stdio],
        })
      : spawn(process.execPath, node, { cwd: ROOT, env, stdio: [...stdio] })
    const keep = (d: Buffer) => {
      this.tail = (this.tail + d.toString()).slice(-8000)
    }
    this.proc.stdout!.on('data', keep)
    this.proc.stderr!.on('data', keep)
    this.proc.on('message', (m: ChildMessage) => {
      this.inbox.push(m)
      this.wake()
    })
    this.exited = new Promise((resolve) =>
      this.proc.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null)
        this.wake()
        resolve(code)
      }),
    )
    this.proc.on('error', (err) => {
      this.tail += `\n${err.message}`
    })
  }

  get pid(): number {
    return this.proc.pid!
  }

  get alive(): boolean {
    return this.exitCode === undefined
  }

  output(): string {
    return this.tail
  }

  send(msg: object): void {
    this.proc.send?.(msg)
  }

  /** The next IPC message of this type (earlier ones of other types stay queued). */
  async next<T extends { type: string }>(type: string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type || m.type === 'fatal')
      if (i >= 0) {
        const m = this.inbox.splice(i, 1)[0]!
        if (m.type === 'fatal') throw new Error(`${this.opts.name}: ${String(m.message)}`)
        return m as unknown as T
      }
      if (!this.alive)
        throw new Error(
          `${this.opts.name} exited (${this.exitCode}) while waiting for "${type}":\n${this.tail}`,
        )
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`${this.opts.name}: no "${type}" within ${timeoutMs} ms:\n${this.tail}`)
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          this.waiters.delete(done)
          resolve()
        }
        const timer = setTimeout(done, left)
        this.waiters.add(done)
      })
    }
  }

  /** Sends a command and waits for its reply message. */
  async request<T extends { type: string }>(
    msg: { cmd: string; [key: string]: unknown },
    replyType: string,
    timeoutMs = 30_000,
  ): Promise<T> {
    this.send(msg)
    return this.next<T>(replyType, timeoutMs)
  }

  /** SIGTERM, then SIGKILL after graceMs. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.alive) return
    this.proc.kill('SIGTERM')
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs)
    await this.exited
    clearTimeout(timer)
  }

  private wake(): void {
    for (const w of [...this.waiters]) w()
  }
}

/** Every child started by the harness, so a failure or Ctrl-C never leaves one behind. */
const running = new Set<Child>()

export function startChild(opts: ChildOptions): Child {
  const child = new Child(opts)
  running.add(child)
  void child.exited.then(() => running.delete(child))
  return child
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop(2_000)))
}

/** Polls a URL until it answers with `status` (default 200). */
export async function waitForHttp(
  url: string,
  timeoutMs = 20_000,
  child?: Child,
  status = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    if (child && !child.alive)
      throw new Error(`${child.opts.name} exited during start-up:\n${child.output()}`)
    try {
      const res = await fetch(url)
      await res.arrayBuffer()
      if (res.status === status) return
      last = `HTTP ${res.status}`
    } catch (err) {
      last = (err as Error).message
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(
    `${url} not answering ${status} within ${timeoutMs} ms (${last})${child ? `:\n${child.output()}` : ''}`,
  )
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
