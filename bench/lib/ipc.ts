/** The child side of the harness's IPC: commands in, typed replies out. */

export interface Command {
  cmd: string
  [key: string]: unknown
}

export function reply(type: string, body: Record<string, unknown> = {}): void {
  process.send?.({ type, ...body })
}

export function fatal(err: unknown): void {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err)
  if (process.send) process.send({ type: 'fatal', message }, () => process.exit(1))
  else {
    process.stderr.write(`${message}\n`)
    process.exit(1)
  }
}

/** Runs handler for each command; a thrown error is reported as fatal. Exits when the parent goes. */
export function onCommand(handler: (c: Command) => void | Promise<void>): void {
  process.on('message', (c: Command) => {
    Promise.resolve()
      .then(() => handler(c))
      .catch(fatal)
  })
  process.on('disconnect', () => process.exit(0))
  process.on('SIGTERM', () => process.exit(0))
}
