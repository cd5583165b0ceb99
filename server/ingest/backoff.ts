/**
 * Delay before the next attempt after `failures` consecutive failures: exponential from `baseMs`,
 * capped at `maxMs`, with "equal jitter" (half fixed, half random) so that many nodes or sources
 * failing together do not retry in lockstep. Never below `floorMs` (an exchange's rate budget).
 */
export function backoffDelay(
  failures: number,
  opts: { baseMs: number; maxMs: number; floorMs?: number; random?: () => number },
): number {
  const { baseMs, maxMs, floorMs = 0, random = Math.random } = opts
  if (failures <= 0) return Math.max(floorMs, baseMs)
  // 2^30 already exceeds any sane cap; the exponent is bounded so the product stays finite.
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30))
  const jittered = exp / 2 + random() * (exp / 2)
  return Math.max(floorMs, Math.round(jittered))
}
