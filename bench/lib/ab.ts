/**
 * A B A B alternation: every round runs each contender once, in the same order, so slow phases of a
 * shared, noisy machine hit all of them alike; ratios are then taken per round.
 */
export async function alternate<K extends string, R>(
  contenders: readonly K[],
  rounds: number,
  run: (contender: K, round: number) => Promise<R>,
): Promise<Record<K, R[]>> {
  const out = Object.fromEntries(contenders.map((c) => [c, [] as R[]])) as Record<K, R[]>
  for (let r = 0; r < rounds; r++) for (const c of contenders) out[c].push(await run(c, r))
  return out
}
