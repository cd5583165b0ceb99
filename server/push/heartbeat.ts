import type { Connection } from './connection.js'
import type { Hub } from './hub.js'

/**
 * WebSocket pings for every connection from one interval (no per-connection timers). Each sweep
 * pings the connections with no ping outstanding; one deadline timer per sweep terminates those
 * that have not answered within pongTimeoutMs.
 */
export class Heartbeat {
  private interval: NodeJS.Timeout | undefined
  private readonly deadlines = new Set<NodeJS.Timeout>()

  constructor(
    private readonly hub: Hub,
    private readonly pingMs: number,
    private readonly pongTimeoutMs: number,
  ) {}

  start(): void {
    this.interval = setInterval(() => this.sweep(), this.pingMs)
    this.interval.unref()
  }

  stop(): void {
    clearInterval(this.interval)
    for (const t of this.deadlines) clearTimeout(t)
    this.deadlines.clear()
  }

  private sweep(): void {
    const now = Date.now()
    for (const conn of this.hub.connections) {
      // A connection is first pinged one full interval after it opened, not at whatever phase the
      // sweep happens to be in: every client gets at least pingMs + pongTimeoutMs before a cut.
      if (conn.pingSentAt === 0) {
        if (now - conn.openedAt >= this.pingMs) conn.ping(now)
      } else if (now - conn.pingSentAt >= this.pongTimeoutMs) this.terminate(conn)
    }
    const deadline = setTimeout(() => {
      this.deadlines.delete(deadline)
      this.reap(now)
    }, this.pongTimeoutMs)
    deadline.unref()
    this.deadlines.add(deadline)
  }

  /** Terminates connections still owing the pong of a ping sent at or before `sweptAt`. */
  private reap(sweptAt: number): void {
    for (const conn of this.hub.connections) {
      if (conn.pingSentAt !== 0 && conn.pingSentAt <= sweptAt) this.terminate(conn)
    }
  }

  private terminate(conn: Connection): void {
    this.hub.logger.debug({ ip: conn.ip }, 'terminating a stream connection that missed its pong')
    conn.terminate()
  }
}
