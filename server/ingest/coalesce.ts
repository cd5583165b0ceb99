export interface CoalescerOptions {
  /** At most this many flushes of one key per second. */
  maxPerSec: number
  /**
   * Publishes the keys given (one batch); the caller reads their latest values at that moment.
   * It may resolve with the keys it really published: the others (nothing new to send) do not use
   * up their rate budget, so a real change right after is not held back.
   */
  flush: (keys: string[]) => Promise<string[] | undefined>
  /** Called when flush throws (it should not). */
  onError?: (err: unknown) => void
  now?: () => number
}

/**
 * Coalesces updates per key (asset): keys marked changed are flushed together in one batch as
 * soon as each one's rate budget allows (at most maxPerSec flushes per key per second). A key marked
 * again before its turn is flushed once, with the latest value, because the flush reads the latest
 * state when it runs: the newest value is always delivered, intermediate ones may be skipped.
 * Polled ticks and (later) streamed ticks both go through here. Flushes never overlap.
 */
export class Coalescer {
  private readonly pending = new Set<string>()
  private readonly lastFlush = new Map<string, number>()
  private readonly gapMs: number
  private readonly now: () => number
  private timer: NodeJS.Timeout | undefined
  private timerDueAt = Number.POSITIVE_INFINITY
  private running: Promise<void> | undefined
  private stopped = false

  constructor(private readonly opts: CoalescerOptions) {
    this.gapMs = 1000 / Math.max(1, opts.maxPerSec)
    this.now = opts.now ?? Date.now
  }

  /** Marks keys as changed; their flush is scheduled (batched with others due at the same time). */
  mark(keys: Iterable<string>): void {
    if (this.stopped) return
    for (const k of keys) this.pending.add(k)
    this.schedule()
  }

  /** Resolves when no flush is running or scheduled (tests, shutdown). */
  async idle(): Promise<void> {
    for (let i = 0; i < 1000 && (this.running || this.timer); i++) {
      if (this.running) await this.running
      else await new Promise((r) => setTimeout(r, 1))
    }
  }

  /** Drops pending keys and cancels the next flush; a running flush completes. */
  stop(): void {
    this.stopped = true
    this.pending.clear()
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.timerDueAt = Number.POSITIVE_INFINITY
  }

  /** Accepts marks again after stop(), with a clean rate history. */
  resume(): void {
    this.stopped = false
    this.lastFlush.clear()
  }

  private dueAt(key: string): number {
    const last = this.lastFlush.get(key)
    return last === undefined ? 0 : last + this.gapMs
  }

  private schedule(): void {
    if (this.running || this.pending.size === 0 || this.stopped) return
    let earliest = Number.POSITIVE_INFINITY
    for (const k of this.pending) earliest = Math.min(earliest, this.dueAt(k))
    // A key due sooner than the armed timer (a quiet key behind a busy one) re-arms it.
    if (this.timer && earliest >= this.timerDueAt) return
    if (this.timer) clearTimeout(this.timer)
    // setTimeout even when due now: marks made in the same turn join one batch.
    const delay = Math.max(0, Math.ceil(earliest - this.now()))
    this.timerDueAt = earliest
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.timerDueAt = Number.POSITIVE_INFINITY
      this.run()
    }, delay)
  }

  private run(): void {
    const now = this.now()
    const due = [...this.pending].filter((k) => this.dueAt(k) <= now)
    const before = new Map(due.map((k) => [k, this.lastFlush.get(k)]))
    for (const k of due) {
      this.pending.delete(k)
      this.lastFlush.set(k, now)
    }
    if (due.length === 0) {
      this.schedule()
      return
    }
    this.running = this.opts
      .flush(due)
      .then((published) => {
        if (!Array.isArray(published)) return
        const sent = new Set(published)
        for (const [k, last] of before) {
          if (sent.has(k) || this.lastFlush.get(k) !== now) continue
          if (last === undefined) this.lastFlush.delete(k)
          else this.lastFlush.set(k, last)
        }
      })
      .catch((err: unknown) => this.opts.onError?.(err))
      .finally(() => {
        this.running = undefined
        this.schedule()
      })
  }
}
