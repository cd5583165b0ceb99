export type BreakerState = 'closed' | 'open' | 'half-open'

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  threshold: number
  /** How long an open breaker refuses requests before letting one probe through. */
  coolDownMs: number
  /** Called on every state change (metrics, logs). */
  onChange?: (state: BreakerState, previous: BreakerState) => void
}

/**
 * A circuit breaker for one source: closed (requests flow) → open after `threshold` consecutive
 * failures (no requests) → half-open after `coolDownMs` (exactly one probe) → closed when the
 * probe succeeds, open again when it fails. Time is passed in, so it is pure and testable.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed'
  private failures = 0
  private openedAt = 0

  constructor(private readonly opts: BreakerOptions) {}

  get state(): BreakerState {
    return this.current
  }

  get consecutiveFailures(): number {
    return this.failures
  }

  /** Whether a request may be sent now; does not change state. */
  canRequest(now: number): boolean {
    if (this.current === 'closed') return true
    if (this.current === 'open') return now >= this.openedAt + this.opts.coolDownMs
    return false // half-open: the probe is in flight
  }

  /** When an open breaker lets its probe through (undefined unless open). */
  probeAt(): number | undefined {
    return this.current === 'open' ? this.openedAt + this.opts.coolDownMs : undefined
  }

  /** Call right before sending a request that canRequest allowed: an open breaker becomes half-open. */
  begin(now: number): void {
    if (this.current === 'open' && this.canRequest(now)) this.set('half-open')
  }

  success(): void {
    this.failures = 0
    if (this.current !== 'closed') this.set('closed')
  }

  failure(now: number): void {
    this.failures++
    if (this.current === 'half-open' || (this.current === 'closed' && this.failures >= this.opts.threshold)) {
      this.openedAt = now
      this.set('open')
    }
  }

  private set(state: BreakerState): void {
    const previous = this.current
    this.current = state
    this.opts.onChange?.(state, previous)
  }
}
