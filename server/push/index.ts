import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyPluginAsync } from 'fastify'
import { type ServerOptions, type WebSocket, WebSocketServer } from 'ws'
import { CLOSE_CODES } from '../../shared/protocol.js'
import type { PluginOptions } from '../context.js'
import { clientIpResolver } from './client-ip.js'
import { Connection } from './connection.js'
import { Heartbeat } from './heartbeat.js'
import { Hub } from './hub.js'
import { IpLimiter } from './ip-limiter.js'
import { type PushLimits, pushLimits } from './limits.js'
import { originChecker, pathOf, refuseUpgrade, STREAM_PATH } from './upgrade.js'

export interface StreamOptions extends PluginOptions {
  /** Overrides of the built-in limits (tests, embedding). */
  limits?: Partial<PushLimits>
}

/** How long ws waits for the peer's close frame before cutting the socket. */
const CLOSE_TIMEOUT_MS = 5_000

/**
 * The live stream at /v1/stream (protocol: PROTOCOL.md). Handles the HTTP server's upgrade
 * requests itself with a `ws` server in noServer mode; every other upgrade path gets 404.
 * Delivers every batch from the engine's bus (on every node, the leader included) to the
 * connections of this node.
 */
export const streamRoutes: FastifyPluginAsync<StreamOptions> = async (app, { ctx, limits: overrides }) => {
  const limits = pushLimits(ctx.config, overrides)
  const ips = new IpLimiter(limits.maxPerIp)
  const hub = new Hub(ctx, limits, ips)
  const heartbeat = new Heartbeat(hub, limits.pingMs, limits.pongTimeoutMs)
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: limits.hardMaxPayload,
    closeTimeout: CLOSE_TIMEOUT_MS,
  } as ServerOptions)
  const ipOf = clientIpResolver(ctx.config.trustProxy)
  const originAllowed = originChecker(limits.allowedOrigins)
  const { metrics } = ctx
  /** Sockets accepted only to be closed with 4029, cut at shutdown if still closing. */
  const refused = new Set<WebSocket>()
  let closing = false

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = pathOf(req)
    if (path !== STREAM_PATH) {
      metrics.wsRejected.inc({ reason: 'not_found' })
      refuseUpgrade(
        socket,
        404,
        'not_found',
        `no WebSocket endpoint at ${path}: the stream is at ${STREAM_PATH}`,
      )
      return
    }
    if (closing) {
      metrics.wsRejected.inc({ reason: 'shutting_down' })
      refuseUpgrade(socket, 503, 'shutting_down', 'this node is shutting down: connect again')
      return
    }
    const origin = req.headers.origin
    if (!originAllowed(origin)) {
      metrics.wsRejected.inc({ reason: 'origin' })
      refuseUpgrade(socket, 403, 'origin_not_allowed', `origin ${origin} is not allowed`)
      return
    }
    const ip = ipOf(req)
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (closing) {
        ws.on('error', () => {})
        ws.close(CLOSE_CODES.goingAway, 'server shutting down')
        return
      }
      if (!ips.tryAcquire(ip)) {
        // Accepted then closed, not refused with HTTP 429: a browser cannot read the status of a
        // refused upgrade, but it can read a close code, and must not hammer the server.
        metrics.wsRejected.inc({ reason: 'per_ip' })
        ws.on('error', () => {})
        refused.add(ws)
        ws.once('close', () => refused.delete(ws))
        ws.close(CLOSE_CODES.tooManyConnections, 'too many connections from this address')
        return
      }
      hub.add(new Connection(ws, ip, hub))
    })
  }

  app.server.on('upgrade', onUpgrade)
  const unsubscribe = ctx.engine.subscribe(hub.onBatch)
  heartbeat.start()

  app.get(STREAM_PATH, { schema: { hide: true } }, async (_req, reply) =>
    reply
      .code(426)
      .header('upgrade', 'websocket')
      .send({
        error: {
          code: 'upgrade_required',
          message: `${STREAM_PATH} is a WebSocket endpoint: see PROTOCOL.md`,
        },
      }),
  )

  // 1001 before the HTTP server closes, so clients reconnect to another node straight away.
  app.addHook('preClose', async () => {
    closing = true
    heartbeat.stop()
    unsubscribe()
    await hub.closeAll(CLOSE_CODES.goingAway, 'server shutting down', limits.closeWaitMs)
    for (const ws of refused) ws.terminate()
  })
  app.addHook('onClose', async () => {
    app.server.off('upgrade', onUpgrade)
    hub.stop()
    wss.close()
  })
}
