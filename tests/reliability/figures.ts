/** One line per scenario figure, greppable in CI logs: `reliability: <scenario>: <figure>`. */
export function printFigure(scenario: string, figure: string): void {
  console.log(`reliability: ${scenario}: ${figure}`)
}

/** The p-th percentile (0–100) of the values (nearest rank); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

/**
 * Collects unhandled rejections and uncaught exceptions of this (test) process while installed.
 * An uncaught exception is recorded instead of crashing the runner, so the test can fail with it.
 */
export function watchProcessFaults(): { faults: string[]; dispose(): void } {
  const faults: string[] = []
  const onRejection = (reason: unknown) => faults.push(`unhandledRejection: ${String(reason)}`)
  const onException = (err: unknown) => faults.push(`uncaughtException: ${String(err)}`)
  process.on('unhandledRejection', onRejection)
  process.on('uncaughtException', onException)
  return {
    faults,
    dispose() {
      process.off('unhandledRejection', onRejection)
      process.off('uncaughtException', onException)
    },
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
