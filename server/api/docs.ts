import helmet from '@fastify/helmet'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync } from 'fastify'
import type { PluginOptions } from '../context.js'

/**
 * GET /docs (Swagger UI) and /docs/json (the OpenAPI document). Security headers are set here
 * only: helmet is registered inside this encapsulated plugin, so its CSP cannot reach other
 * HTML such as the widget demo page.
 */
export const docsRoutes: FastifyPluginAsync<PluginOptions> = async (app) => {
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        // Self-hosted over plain http on a LAN must still work.
        upgradeInsecureRequests: null,
      },
    },
    // The UI is served over http too; HSTS is the TLS terminator's business.
    strictTransportSecurity: false,
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true, validatorUrl: null },
  })
}
