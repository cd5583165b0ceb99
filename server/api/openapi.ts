import swagger from '@fastify/swagger'
import type { FastifyPluginAsync } from 'fastify'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import type { PluginOptions } from '../context.js'

type Transform = typeof jsonSchemaTransform

/** The REST API and the operations endpoints are documented; HTML, scripts and WebSockets are not. */
function isDocumented(url: string, route: { websocket?: boolean } | undefined): boolean {
  if (route?.websocket) return false
  return url.startsWith('/v1/') || url === '/healthz' || url === '/readyz' || url === '/metrics'
}

const documentedOnly: Transform = (doc) => {
  if (!isDocumented(doc.url, doc.route as { websocket?: boolean } | undefined)) {
    return { schema: { hide: true }, url: doc.url }
  }
  return jsonSchemaTransform(doc)
}

/**
 * Collects every route into an OpenAPI 3.1 document; route schemas are the zod schemas of
 * shared/api.ts, converted by the type provider. Registered without encapsulation and before
 * any route, since @fastify/swagger only sees routes added after it.
 */
export const openApi: FastifyPluginAsync<PluginOptions> = async (app) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Pricewire',
        version: '1.0.0',
        description:
          'Live crypto prices aggregated from several exchanges. Assets are addressed by registry id ' +
          '(`pol`, `talus`). Every error is `{ "error": { "code", "message", "details"? } }`. Reads carry ' +
          'an ETag (send If-None-Match for a 304) and Cache-Control; requests are rate limited per client IP ' +
          '(429 with Retry-After).',
      },
      tags: [
        { name: 'quotes', description: 'Latest aggregated quotes' },
        { name: 'history', description: 'Price history' },
        { name: 'assets', description: 'The asset registry' },
        { name: 'badge', description: 'SVG badges for places without JavaScript' },
        { name: 'ops', description: 'Health, readiness and metrics' },
      ],
    },
    transform: documentedOnly,
    transformObject: jsonSchemaTransformObject,
  })
}
Object.assign(openApi, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'pricewire-openapi',
})
