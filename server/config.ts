import { hostname } from 'node:os'
import { z } from 'zod'
import { EXCHANGE_IDS, SOURCE_IDS, type SourceId } from '../shared/quote.js'

/**
 * All environment, read once and validated here. No other module reads process.env.
 * A bad value stops start-up with one line naming the variable, its value and what is expected.
 */

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, `an integer from ${min} to ${max}`)
        .max(max, `an integer from ${min} to ${max}`),
    )

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'true or false' }))
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

const onOff = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['on', 'off', 'true', 'false', '1', '0', 'yes', 'no'], { message: 'on or off' }))
  .transform((v) => v === 'on' || v === 'true' || v === '1' || v === 'yes')

const httpUrl = z
  .string()
  .trim()
  .pipe(z.url({ protocol: /^https?$/, message: 'an http(s) URL such as http://127.0.0.1:9001' }))
  .transform((v) => v.replace(/\/+$/, ''))

const wsUrl = z
  .string()
  .trim()
  .pipe(z.url({ protocol: /^wss?$/, message: 'a ws(s) URL such as ws://127.0.0.1:9002' }))
  .transform((v) => v.replace(/\/+$/, ''))

const list = <T extends z.ZodType<unknown, string>>(item: T, message: string) =>
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item, { message }).min(1, message))

const sourceIdsMessage = `a comma list of: ${SOURCE_IDS.join(', ')}`
const sourceIdList = list(z.enum(SOURCE_IDS, { message: sourceIdsMessage }), sourceIdsMessage)

/** Trust proxy: true/false, a hop count, or a comma list of addresses/CIDRs. */
const trustProxy = z
  .string()
  .trim()
  .transform((v): boolean | number | string[] => {
    const lower = v.toLowerCase()
    if (lower === 'true' || lower === 'false') return lower === 'true'
    if (/^\d+$/.test(v)) return Number(v)
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  })

const EnvSchema = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
  PORT: int(0, 65535).default(8080),
  HOST: z.string().trim().min(1, 'a host name or address').default('0.0.0.0'),
  REDIS_URL: z
    .string()
    .trim()
    .pipe(z.url({ protocol: /^rediss?$/, message: 'a redis:// or rediss:// URL' }))
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PRICEWIRE_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,64}$/, '1-64 characters of letters, digits and :_.-')
    .default('pricewire:'),
  PRICEWIRE_NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, '1-64 characters of letters, digits and _.-')
    .optional(),
  PRICEWIRE_SOURCES: sourceIdList.optional(),
  PRICEWIRE_ASSETS_FILE: z.string().trim().min(1, 'a path to a JSON registry file').optional(),
  PRICEWIRE_POLL_MS: int(100, 3_600_000).default(10_000),
  PRICEWIRE_REQUEST_TIMEOUT_MS: int(100, 60_000).default(5_000),
  PRICEWIRE_STALE_MS: int(1_000, 86_400_000).default(60_000),
  PRICEWIRE_OUTLIER_PCT: z
    .string()
    .trim()
    .transform(Number)
    .pipe(z.number({ message: 'a percentage from 0.1 to 50' }).min(0.1).max(50))
    .default(5),
  PRICEWIRE_LEADER_TTL_MS: int(1_000, 600_000).default(5_000),
  PRICEWIRE_ALLOWED_ORIGINS: list(z.string().min(1), 'a comma list of origins, or *').default(['*']),
  PRICEWIRE_RATE_LIMIT: int(0, 1_000_000).default(600),
  PRICEWIRE_SHED_EVENT_LOOP_DELAY_MS: int(0, 600_000).default(1_000),
  PRICEWIRE_TRUST_PROXY: trustProxy.default(false),
  PRICEWIRE_WS_MAX_PER_IP: int(0, 1_000_000).default(50),
  PRICEWIRE_WS_MAX_SUBSCRIPTIONS: int(1, 10_000).default(100),
  PRICEWIRE_WS_MAX_PAYLOAD: int(64, 1_048_576).default(4096),
  PRICEWIRE_WS_PING_MS: int(100, 600_000).default(25_000),
  PRICEWIRE_WS_PONG_TIMEOUT_MS: int(100, 600_000).default(10_000),
  PRICEWIRE_PUSH_MAX_PER_SEC: int(1, 1000).default(4),
  PRICEWIRE_STREAMS: onOff.default(true),
  PRICEWIRE_RECONCILE_MS: int(1_000, 3_600_000).default(60_000),
  PRICEWIRE_STREAM_SILENCE_MS: int(100, 600_000).optional(),
  PRICEWIRE_SHUTDOWN_MS: int(100, 60_000).default(10_000),
  PRICEWIRE_SIM_SEED: int(0, 2 ** 31 - 1).default(42),
  PRICEWIRE_COINGECKO_API_KEY: z.string().trim().min(1).optional(),
  PRICEWIRE_PRETTY_LOGS: bool.optional(),
})

const SOURCE_URL_PREFIX = 'PRICEWIRE_SOURCE_URL_'
const SOURCE_WS_URL_PREFIX = 'PRICEWIRE_SOURCE_WS_URL_'

export interface Config {
  env: 'production' | 'development' | 'test'
  port: number
  host: string
  redisUrl: string | undefined
  redisPrefix: string
  nodeId: string
  logLevel: string
  prettyLogs: boolean
  sources: SourceId[]
  /** REST base URL overrides per source (scheme://host:port). */
  sourceUrls: Partial<Record<SourceId, string>>
  /** WebSocket URL overrides per source. */
  sourceWsUrls: Partial<Record<SourceId, string>>
  assetsFile: string | undefined
  pollMs: number
  requestTimeoutMs: number
  staleMs: number
  outlierPct: number
  leaderTtlMs: number
  allowedOrigins: string[]
  rateLimit: number
  /** Mean event-loop delay (ms) past which REST answers 503 overloaded; 0 = no load shedding. */
  shedEventLoopDelayMs: number
  trustProxy: boolean | number | string[]
  ws: {
    maxPerIp: number
    maxSubscriptions: number
    maxPayload: number
    pingMs: number
    pongTimeoutMs: number
  }
  pushMaxPerSec: number
  /** Exchange WebSocket streams (server/sources/streams). */
  streams: {
    /** Stream the sources that have a stream (a source whose REST URL is overridden streams only if its WS URL is too). */
    enabled: boolean
    /** REST poll interval of a source while its stream is healthy. */
    reconcileMs: number
    /** A stream silent this long is unhealthy; undefined: 3 × each exchange's push interval. */
    silenceMs: number | undefined
  }
  shutdownMs: number
  simSeed: number
  coingeckoApiKey: string | undefined
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

function describeValue(value: unknown): string {
  if (value === undefined) return '(unset)'
  const s = String(value)
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s)
}

/** Reads and validates the environment. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const name = String(issue.path[0] ?? 'environment')
    throw new ConfigError(`${name}=${describeValue(env[name])} is invalid: expected ${issue.message}`)
  }
  const e = parsed.data
  const sourceUrls = readPerSource(env, SOURCE_URL_PREFIX, httpUrl)
  const sourceWsUrls = readPerSource(env, SOURCE_WS_URL_PREFIX, wsUrl)
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.PRICEWIRE_REDIS_PREFIX,
    nodeId: e.PRICEWIRE_NODE_ID ?? `${hostname().replace(/[^A-Za-z0-9_.-]/g, '-')}-${process.pid}`,
    logLevel: e.LOG_LEVEL,
    prettyLogs: e.PRICEWIRE_PRETTY_LOGS ?? e.NODE_ENV === 'development',
    sources: [...new Set(e.PRICEWIRE_SOURCES ?? [...EXCHANGE_IDS, 'coingecko'])] as SourceId[],
    sourceUrls,
    sourceWsUrls,
    assetsFile: e.PRICEWIRE_ASSETS_FILE,
    pollMs: e.PRICEWIRE_POLL_MS,
    requestTimeoutMs: e.PRICEWIRE_REQUEST_TIMEOUT_MS,
    staleMs: e.PRICEWIRE_STALE_MS,
    outlierPct: e.PRICEWIRE_OUTLIER_PCT,
    leaderTtlMs: e.PRICEWIRE_LEADER_TTL_MS,
    allowedOrigins: e.PRICEWIRE_ALLOWED_ORIGINS,
    rateLimit: e.PRICEWIRE_RATE_LIMIT,
    shedEventLoopDelayMs: e.PRICEWIRE_SHED_EVENT_LOOP_DELAY_MS,
    trustProxy: e.PRICEWIRE_TRUST_PROXY,
    ws: {
      maxPerIp: e.PRICEWIRE_WS_MAX_PER_IP,
      maxSubscriptions: e.PRICEWIRE_WS_MAX_SUBSCRIPTIONS,
      maxPayload: e.PRICEWIRE_WS_MAX_PAYLOAD,
      pingMs: e.PRICEWIRE_WS_PING_MS,
      pongTimeoutMs: e.PRICEWIRE_WS_PONG_TIMEOUT_MS,
    },
    pushMaxPerSec: e.PRICEWIRE_PUSH_MAX_PER_SEC,
    streams: {
      enabled: e.PRICEWIRE_STREAMS,
      reconcileMs: e.PRICEWIRE_RECONCILE_MS,
      silenceMs: e.PRICEWIRE_STREAM_SILENCE_MS,
    },
    shutdownMs: e.PRICEWIRE_SHUTDOWN_MS,
    simSeed: e.PRICEWIRE_SIM_SEED,
    coingeckoApiKey: e.PRICEWIRE_COINGECKO_API_KEY,
  }
}

function readPerSource(
  env: NodeJS.ProcessEnv,
  prefix: string,
  schema: z.ZodType<string>,
): Partial<Record<SourceId, string>> {
  const out: Partial<Record<SourceId, string>> = {}
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(prefix) || value === undefined) continue
    const id = name.slice(prefix.length).toLowerCase()
    if (!(SOURCE_IDS as readonly string[]).includes(id)) {
      throw new ConfigError(
        `${name}=${describeValue(value)} is invalid: expected the suffix to be one of ${SOURCE_IDS.map((s) => s.toUpperCase()).join(', ')}`,
      )
    }
    const parsed = schema.safeParse(value)
    if (!parsed.success) {
      throw new ConfigError(
        `${name}=${describeValue(value)} is invalid: expected ${parsed.error.issues[0]!.message}`,
      )
    }
    out[id as SourceId] = parsed.data
  }
  return out
}

/** A config for tests and embedding: the defaults with these variables applied. */
export function configFrom(vars: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...vars })
}
