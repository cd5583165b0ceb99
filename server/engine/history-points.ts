import type { HistoryPoint } from '../../shared/quote.js'

/**
 * Merges new points into an oldest-first series: a point at an existing timestamp replaces it,
 * points older than `cutoffMs` are dropped.
 */
export function mergeHistory(
  existing: readonly HistoryPoint[],
  added: readonly HistoryPoint[],
  cutoffMs: number,
): HistoryPoint[] {
  const byTs = new Map<number, HistoryPoint>()
  for (const p of existing) if (p[0] >= cutoffMs) byTs.set(p[0], p)
  for (const p of added) if (p[0] >= cutoffMs) byTs.set(p[0], [p[0], p[1]])
  return [...byTs.values()].sort((a, b) => a[0] - b[0])
}
