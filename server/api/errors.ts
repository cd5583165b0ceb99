import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { ErrorResponse } from '../../shared/api.js'
import type { PluginOptions } from '../context.js'
import { safeJson } from './safe-json.js'

/**
 * One error shape for every 4xx and 5xx: { error: { code, message, details? } }. Unknown routes,
 * validation failures, rate limits, overload and framework errors all end up here; a 5xx never
 * carries the original message or stack, only a log line.
 */

/** An error a route means to answer with: status, stable code, client-safe message. */
export class ApiError extends Error {
  override name = 'ApiError'
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message)
  }
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  431: 'headers_too_large',
  503: 'unavailable',
}

const CODE_BY_FASTIFY_CODE: Record<string, string> = {
  FST_UNDER_PRESSURE: 'overloaded',
  FST_ERR_BAD_URL: 'bad_url',
  FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
}

export interface ErrorAnswer {
  status: number
  body: ErrorResponse
  headers?: Record<string, string>
  /** The error was not meant for the client: log it. */
  unexpected: boolean
}

interface ValidationIssue {
  instancePath?: string
  keyword?: string
  message?: string
}

/** Maps anything thrown in a request to the status and body the client gets. */
export function toErrorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof ApiError) {
    const error = {
      code: err.code,
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
    }
    return { status: err.statusCode, body: { error }, headers: err.headers, unexpected: false }
  }
  const e = (err ?? {}) as Partial<FastifyError> & { validation?: ValidationIssue[] }
  if (Array.isArray(e.validation)) {
    const where = e.validationContext ?? 'request'
    const issues = e.validation.map((v) => ({
      in: where,
      path: v.instancePath || '/',
      code: v.keyword ?? 'invalid',
      message: v.message ?? 'invalid value',
    }))
    const first = issues[0]
    const message = first
      ? `invalid ${where}${first.path === '/' ? '' : ` ${first.path.slice(1)}`}: ${first.message}`
      : `invalid ${where}`
    return {
      status: 400,
      body: { error: { code: 'invalid_request', message, details: { issues } } },
      unexpected: false,
    }
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500
  if (status >= 400 && status < 500) {
    const code = (e.code && CODE_BY_FASTIFY_CODE[e.code]) ?? CODE_BY_STATUS[status] ?? 'bad_request'
    return {
      status,
      body: { error: { code, message: clip(e.message || STATUS_CODES[status] || 'bad request') } },
      unexpected: false,
    }
  }
  if (e.code === 'FST_UNDER_PRESSURE') {
    return {
      status: 503,
      body: { error: { code: 'overloaded', message: 'the server is overloaded, retry shortly' } },
      unexpected: false,
    }
  }
  const known = status === 503 ? 'unavailable' : 'internal_error'
  return {
    status: status >= 500 && status < 600 ? status : 500,
    body: {
      error: {
        code: known,
        message: known === 'unavailable' ? 'service unavailable' : 'internal server error',
      },
    },
    unexpected: true,
  }
}

/** Writes an error answer; headers the failing step already set (Retry-After, rate-limit) are kept. */
export function sendError(reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  reply.removeHeader('etag')
  reply.removeHeader('content-length')
  reply.removeHeader('content-encoding')
  reply.removeHeader('last-modified')
  reply.header('cache-control', 'no-store')
  if (answer.headers) reply.headers(answer.headers)
  return reply.code(answer.status).type('application/json; charset=utf-8').send(safeJson(answer.body))
}

function handleError(this: unknown, err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const answer = toErrorAnswer(err)
  if (answer.unexpected) req.log.error({ err, url: req.url }, 'request failed')
  sendError(reply, answer)
}

function handleNotFound(req: FastifyRequest, reply: FastifyReply): void {
  const path = clip(req.url.split('?')[0] ?? '/', 200)
  sendError(reply, {
    status: 404,
    body: { error: { code: 'not_found', message: `no route for ${req.method} ${path}` } },
    unexpected: false,
  })
}

/** For Fastify's `frameworkErrors` option: malformed URL encodings and over-long params. */
export function onFrameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const answer = toErrorAnswer(err)
  if (answer.body.error.code === 'bad_url') answer.body.error.message = 'the URL has invalid percent-encoding'
  if (answer.body.error.code === 'uri_too_long') answer.body.error.message = 'a path segment is too long'
  if (answer.unexpected) req.log.error({ err }, 'framework error')
  sendError(reply, answer)
}

/** For Fastify's `clientErrorHandler` option: HTTP the parser rejected, answered in the same shape. */
export function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  let status = 400
  let body: ErrorResponse = { error: { code: 'bad_request', message: 'malformed HTTP request' } }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408
    body = { error: { code: 'request_timeout', message: 'the request took too long to arrive' } }
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431
    body = { error: { code: 'headers_too_large', message: 'the request headers are too large' } }
  }
  const text = safeJson(body)
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    )
  }
  socket.destroy(err)
}

function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

/**
 * Sets the error and not-found handlers on the instance it is registered on (skip-override: no
 * encapsulation), so it must be registered before any route for every route to use it.
 */
export const errorHandling: FastifyPluginAsync<PluginOptions> = async (app) => {
  app.setErrorHandler(handleError)
  app.setNotFoundHandler(handleNotFound)
}
Object.assign(errorHandling, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'pricewire-errors',
})
