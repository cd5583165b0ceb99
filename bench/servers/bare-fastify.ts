import Fastify from 'fastify'
import { fatal, onCommand, reply } from '../lib/ipc.js'

/**
 * REST baselines: a bare Fastify 5 (no plugins, no logging) answering the same body as
 * GET /v1/quotes, either as pre-serialised bytes (the ceiling) or by serialising an object on
 * every request (JSON.stringify through Fastify's default serialiser).
 * Routes: /pre/v1/quotes and /obj/v1/quotes (query ignored).
 */
let body = '{}'
let object: unknown = {}
let contentType = 'application/json; charset=utf-8'

const app = Fastify({ logger: false })
app.get('/pre/v1/quotes', (_req, res) => {
  res.header('content-type', contentType).send(body)
})
app.get('/obj/v1/quotes', () => object)

onCommand(async (c) => {
  if (c.cmd === 'body') {
    body = String(c.body)
    object = JSON.parse(body)
    if (typeof c.contentType === 'string') contentType = c.contentType
    reply('body-set')
  }
})

app
  .listen({ port: 0, host: '127.0.0.1' })
  .then(() => reply('ready', { port: (app.server.address() as { port: number }).port }))
  .catch(fatal)
