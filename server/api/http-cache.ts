import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** A strong validator for a body: the same bytes give the same tag on every node. */
export function etagOf(body: string | Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`
}

/** If-None-Match against our tag: a list of tags, weak comparison, or `*`. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header === etag) return true
  for (const raw of header.split(',')) {
    const tag = raw.trim()
    if (tag === '*' || tag === etag || (tag.startsWith('W/') && tag.slice(2) === etag)) return true
  }
  return false
}

/** `public, max-age=N` where N is about one poll interval: a cached read is at most one update behind. */
export function cacheControlFor(pollMs: number): string {
  return `public, max-age=${Math.max(1, Math.round(pollMs / 1000))}`
}

/** A representation ready to send: its bytes (a Buffer is written as is: no encoding, no length scan) and tag. */
export interface Prepared {
  body: Buffer
  etag: string
}

/** Bytes and strong ETag of a text body, computed once. */
export function prepareText(text: string): Prepared {
  const body = Buffer.from(text, 'utf8')
  return { body, etag: etagOf(body) }
}

/**
 * Sends a prepared representation: 304 when the client already has it, else the bytes with the
 * content type set, so Fastify neither serializes nor validates it again.
 */
export function sendCached(
  req: FastifyRequest,
  reply: FastifyReply,
  body: Buffer | string,
  etag: string,
  contentType: string,
  cacheControl: string,
): FastifyReply {
  reply.header('etag', etag)
  reply.header('cache-control', cacheControl)
  if (etagMatches(req.headers['if-none-match'], etag)) return reply.code(304).send()
  reply.header('content-type', contentType)
  return reply.send(body)
}

export const JSON_TYPE = 'application/json; charset=utf-8'
export const SVG_TYPE = 'image/svg+xml; charset=utf-8'
