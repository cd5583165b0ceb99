import { existsSync, readFileSync, statSync } from 'node:fs'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { PluginOptions } from '../context.js'
import { etagMatches, etagOf } from './http-cache.js'

/**
 * The embeddable widget and its demo page, served from dist/ (built by `npm run build:widget`):
 * GET /widget.js (short cache, ETag), GET /widget.<hash>.js (immutable), GET /elements.js and
 * GET / (the demo). Scripts are for any origin to load: CORS * and CORP cross-origin.
 * A missing build answers 503 naming the command that makes it.
 */

const JS_TYPE = 'text/javascript; charset=utf-8'
const HTML_TYPE = 'text/html; charset=utf-8'
const SHORT_CACHE = 'public, max-age=300, stale-while-revalidate=86400'
const IMMUTABLE = 'public, max-age=31536000, immutable'
const HASHED_NAME = /^widget\.[0-9a-f]{10}\.js$/

/** The repository root: two levels above server/api/ under tsx, three above build/server/api/ after tsc. */
function repoRoot(): URL {
  const candidates = [new URL('../../', import.meta.url), new URL('../../../', import.meta.url)]
  return candidates.find((dir) => existsSync(new URL('package.json', dir))) ?? candidates[0]!
}

interface Loaded {
  body: Buffer
  etag: string
  mtimeMs: number
  size: number
}

/** Reads dist files once, and again only when the build changes them (stat is cheap; reading is not). */
function distReader(dist: URL) {
  const cache = new Map<string, Loaded>()
  return (name: string): Loaded | undefined => {
    const file = new URL(name, dist)
    let stat: { mtimeMs: number; size: number }
    try {
      stat = statSync(file)
    } catch {
      cache.delete(name)
      return undefined
    }
    const hit = cache.get(name)
    if (hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size) return hit
    const body = readFileSync(file)
    const loaded = { body, etag: etagOf(body), mtimeMs: stat.mtimeMs, size: stat.size }
    cache.set(name, loaded)
    return loaded
  }
}

const notBuilt = (reply: FastifyReply, name: string) =>
  reply
    .code(503)
    .header('cache-control', 'no-store')
    .header('retry-after', '60')
    .send({
      error: {
        code: 'widget_not_built',
        message: `dist/${name} is missing: run \`npm run build\` (or \`npm run build:widget\`) on the server, then reload`,
      },
    })

/** Scripts may be embedded by any site: readable cross-origin (module scripts need CORS). */
function crossOrigin(reply: FastifyReply) {
  reply.header('access-control-allow-origin', '*')
  reply.header('cross-origin-resource-policy', 'cross-origin')
  reply.header('x-content-type-options', 'nosniff')
}

function send(req: FastifyRequest, reply: FastifyReply, file: Loaded, type: string, cacheControl: string) {
  reply.header('etag', file.etag)
  reply.header('cache-control', cacheControl)
  if (etagMatches(req.headers['if-none-match'], file.etag)) return reply.code(304).send()
  return reply.type(type).send(file.body)
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export const widgetRoutes: FastifyPluginAsync<PluginOptions> = async (app) => {
  const read = distReader(new URL('dist/', repoRoot()))

  const script = (name: string) => async (req: FastifyRequest, reply: FastifyReply) => {
    const file = read(name)
    if (!file) return notBuilt(reply, name)
    crossOrigin(reply)
    return send(req, reply, file, JS_TYPE, SHORT_CACHE)
  }
  app.get('/widget.js', { schema: { hide: true } }, script('widget.js'))
  app.get('/elements.js', { schema: { hide: true } }, script('elements.js'))

  app.get<{ Params: { hash: string } }>(
    '/widget.:hash.js',
    { schema: { hide: true } },
    async (req, reply) => {
      const name = `widget.${req.params.hash}.js`
      const file = HASHED_NAME.test(name) ? read(name) : undefined
      if (!file) {
        if (!read('widget.js')) return notBuilt(reply, 'widget.js')
        return reply.code(404).send({
          error: {
            code: 'not_found',
            message: `no ${name} in this build: use /widget.js, or the file named in /manifest.json`,
          },
        })
      }
      crossOrigin(reply)
      return send(req, reply, file, JS_TYPE, IMMUTABLE)
    },
  )

  app.get('/manifest.json', { schema: { hide: true } }, async (req, reply) => {
    const file = read('manifest.json')
    if (!file) return notBuilt(reply, 'manifest.json')
    crossOrigin(reply)
    return send(req, reply, file, 'application/json; charset=utf-8', 'no-cache')
  })

  // The demo page, with its embed snippets naming the origin the visitor reached us at.
  app.get('/', { schema: { hide: true } }, async (req, reply) => {
    const file = read('demo.html')
    if (!file) return notBuilt(reply, 'demo.html')
    const origin = escapeHtml(`${req.protocol}://${req.host}`)
    const body = file.body.toString('utf8').replaceAll('{{origin}}', origin)
    return reply.header('cache-control', 'no-cache').type(HTML_TYPE).send(body)
  })
}
