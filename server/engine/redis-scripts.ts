/** Lua scripts: compare-and-act on the lock owner, atomically. */

/** KEYS[1] lock, ARGV[1] owner, ARGV[2] ttl ms → 1 when renewed. */
export const RENEW_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`

/** KEYS[1] lock, ARGV[1] owner → 1 when released. */
export const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`

/**
 * Replaces the point at a timestamp and trims by age, in one step.
 * KEYS[1] history zset, ARGV[1] cutoff ms, then pairs ARGV[2k] ts, ARGV[2k+1] member.
 */
export const APPEND_HISTORY = `
for i = 2, #ARGV, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[i], ARGV[i])
  redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
return 1`
