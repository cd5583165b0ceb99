/**
 * Epoch milliseconds with sub-millisecond resolution, comparable across the processes of one machine
 * (node children and Chromium pages). performance.timeOrigin + performance.now() alone can drift from
 * the wall clock the other side reads (the monotonic clock is not slewed like the real-time one), so
 * each side anchors it on the instant Date.now() ticks over to the next millisecond: at that edge
 * Date.now() is exact, and the offset found there corrects every later reading.
 */
export function epochClock(): () => number {
  const hr = () => performance.timeOrigin + performance.now()
  const d0 = Date.now()
  let d = d0
  // Busy-waits at most about 1 ms (bounded in case the clock is frozen).
  for (let i = 0; i < 10_000_000 && d === d0; i++) d = Date.now()
  const offset = d - hr()
  return () => hr() + offset
}

/** The same clock as page JavaScript: defines `__epochClock()` returning a `now()` function. */
export const EPOCH_CLOCK_JS = `function __epochClock() {
  const hr = () => performance.timeOrigin + performance.now();
  const d0 = Date.now();
  let d = d0;
  for (let i = 0; i < 10000000 && d === d0; i++) d = Date.now();
  const offset = d - hr();
  return () => hr() + offset;
}`
