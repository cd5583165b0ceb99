import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { freePort } from '../helpers/free-port.js'
import { startRedis, type TestRedis } from '../helpers/redis-server.js'

const root = new URL('../../', import.meta.url).pathname

/** Runs server/main.ts as a real process, as `npm start` does after building. */
function run(env: Record<string, string>): {
  proc: ChildProcess
  output: () => string
  exit: Promise<number | null>
} {
  let out = ''
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  proc.stdout!.on('data', (d) => (out += d))
  proc.stderr!.on('data', (d) => (out += d))
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  return { proc, output: () => out, exit }
}

async function waitHttp(url: string, timeoutMs: number): Promise<Response> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await fetch(url)
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

describe('start-up', () => {
  let redis: TestRedis
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis.stop()
  })

  it('PORT=abc exits 1 with one line naming PORT', async () => {
    const r = run({ PORT: 'abc' })
    expect(await r.exit).toBe(1)
    expect(r.output().trim()).toBe(
      'pricewire: configuration error: PORT="abc" is invalid: expected an integer from 0 to 65535',
    )
  })

  it('an invalid registry file exits 1 naming the asset and field', async () => {
    const r = run({
      PORT: String(await freePort()),
      PRICEWIRE_ASSETS_FILE: `${root}tests/fixtures/registry-invalid.json`,
    })
    expect(await r.exit).toBe(1)
    expect(r.output()).toMatch(/asset "pol": field markets\.0\.quote/)
  })

  it('without Redis: memory engine, /healthz 200 within 5 s, SIGTERM exits 0 promptly', async () => {
    const port = await freePort()
    const started = Date.now()
    const r = run({ PORT: String(port), PRICEWIRE_SOURCES: 'simulated', PRICEWIRE_POLL_MS: '500' })
    try {
      const res = await waitHttp(`http://127.0.0.1:${port}/healthz`, 5_000)
      expect(res.status).toBe(200)
      expect(Date.now() - started).toBeLessThan(5_000)
      const ready = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()
      expect(ready).toMatchObject({ status: 'ready', engine: 'memory' })
      expect(r.output()).toContain('using the memory engine')
    } finally {
      const t = Date.now()
      r.proc.kill('SIGTERM')
      expect(await r.exit).toBe(0)
      expect(Date.now() - t).toBeLessThan(10_000)
    }
  })

  it('with REDIS_URL: the Redis engine, said by /readyz and the start-up log', async () => {
    const port = await freePort()
    const r = run({
      PORT: String(port),
      REDIS_URL: redis.url,
      PRICEWIRE_SOURCES: 'simulated',
      PRICEWIRE_POLL_MS: '500',
    })
    try {
      await waitHttp(`http://127.0.0.1:${port}/healthz`, 8_000)
      const ready = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()
      expect(ready).toMatchObject({ status: 'ready', engine: 'redis' })
      expect(r.output()).toContain('using the redis engine')
    } finally {
      r.proc.kill('SIGTERM')
      await r.exit
    }
  })

  it('with REDIS_URL pointing nowhere: starts, /healthz 200, /readyz 503 with the reason', async () => {
    const port = await freePort()
    const dead = await freePort()
    const r = run({
      PORT: String(port),
      REDIS_URL: `redis://127.0.0.1:${dead}`,
      PRICEWIRE_SOURCES: 'simulated',
    })
    try {
      expect((await waitHttp(`http://127.0.0.1:${port}/healthz`, 8_000)).status).toBe(200)
      const res = await fetch(`http://127.0.0.1:${port}/readyz`)
      expect(res.status).toBe(503)
      expect((await res.json()).error.message).toMatch(/redis unreachable/)
    } finally {
      r.proc.kill('SIGTERM')
      await r.exit
    }
  })
})

describe('deployment files', () => {
  it('docker-compose.yml parses: redis, two nodes on it, an nginx load balancer, healthchecks', () => {
    const doc = parseYaml(readFileSync(`${root}docker-compose.yml`, 'utf8'), { merge: true })
    expect(Object.keys(doc.services).sort()).toEqual(['lb', 'node1', 'node2', 'redis'])
    for (const name of ['node1', 'node2']) {
      expect(doc.services[name].environment.REDIS_URL).toBe('redis://redis:6379')
      expect(doc.services[name].healthcheck.test.join(' ')).toContain('/readyz')
    }
    expect(doc.services.lb.image).toMatch(/^nginx/)
    expect(readFileSync(`${root}deploy/nginx.conf`, 'utf8')).toMatch(
      /proxy_set_header Upgrade \$http_upgrade/,
    )
  })

  it('the image runs the same entry point as npm start', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'))
    const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8')
    const cmd = JSON.parse(dockerfile.match(/^CMD (.*)$/m)![1]!).join(' ')
    expect(pkg.scripts.start).toContain(cmd)
  })
})
