import { describe, expect, it } from 'vitest'
import { ApiError, toErrorAnswer } from '../../server/api/errors.js'
import { cacheControlFor, etagMatches, etagOf, prepareText } from '../../server/api/http-cache.js'
import { safeJson } from '../../server/api/safe-json.js'

describe('toErrorAnswer', () => {
  it('answers an ApiError as meant', () => {
    const a = toErrorAnswer(
      new ApiError(404, 'unknown_asset', 'unknown asset: x', { asset: 'x' }, { 'x-a': '1' }),
    )
    expect(a).toEqual({
      status: 404,
      body: { error: { code: 'unknown_asset', message: 'unknown asset: x', details: { asset: 'x' } } },
      headers: { 'x-a': '1' },
      unexpected: false,
    })
  })

  it('turns validation failures into 400 invalid_request with the issues', () => {
    const err = Object.assign(new Error('bad'), {
      validation: [{ instancePath: '/assets', keyword: 'invalid_format', message: 'a comma list' }],
      validationContext: 'querystring',
    })
    const a = toErrorAnswer(err)
    expect(a.status).toBe(400)
    expect(a.body.error).toEqual({
      code: 'invalid_request',
      message: 'invalid querystring assets: a comma list',
      details: {
        issues: [{ in: 'querystring', path: '/assets', code: 'invalid_format', message: 'a comma list' }],
      },
    })
  })

  it('answers load shedding with 503 overloaded', () => {
    const err = Object.assign(new Error('Service Unavailable'), {
      statusCode: 503,
      code: 'FST_UNDER_PRESSURE',
    })
    const a = toErrorAnswer(err)
    expect(a.status).toBe(503)
    expect(a.body.error.code).toBe('overloaded')
    expect(a.unexpected).toBe(false)
  })

  it('maps framework 4xx codes and keeps their status', () => {
    expect(
      toErrorAnswer(
        Object.assign(new Error('x'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }),
      ).body.error.code,
    ).toBe('unsupported_media_type')
    expect(toErrorAnswer(Object.assign(new Error('x'), { statusCode: 413 })).body.error.code).toBe(
      'payload_too_large',
    )
    expect(toErrorAnswer(Object.assign(new Error('x'), { statusCode: 418 })).body.error.code).toBe(
      'bad_request',
    )
  })

  it('never lets an unexpected error message or stack reach the client', () => {
    const err = new Error('ECONNREFUSED 127.0.0.1:6379 at /srv/app/server/engine/redis.ts:12')
    const a = toErrorAnswer(err)
    expect(a.status).toBe(500)
    expect(a.unexpected).toBe(true)
    expect(a.body).toEqual({ error: { code: 'internal_error', message: 'internal server error' } })
    expect(toErrorAnswer(undefined).status).toBe(500)
    expect(toErrorAnswer('a string').status).toBe(500)
    expect(toErrorAnswer(Object.assign(new Error('x'), { statusCode: 503 })).body.error.code).toBe(
      'unavailable',
    )
    expect(toErrorAnswer(Object.assign(new Error('x'), { statusCode: 700 })).status).toBe(500)
  })
})

describe('HTTP caching helpers', () => {
  it('gives the same strong tag for the same bytes, another for others', () => {
    expect(etagOf('{"a":1}')).toBe(etagOf(Buffer.from('{"a":1}')))
    expect(etagOf('{"a":1}')).not.toBe(etagOf('{"a":2}'))
    expect(etagOf('x')).toMatch(/^"[A-Za-z0-9_-]+"$/)
    const p = prepareText('{"é":1}')
    expect(p.body.equals(Buffer.from('{"é":1}'))).toBe(true)
    expect(p.etag).toBe(etagOf('{"é":1}'))
  })

  it('matches If-None-Match lists, weak tags and *', () => {
    const tag = '"abc"'
    expect(etagMatches(undefined, tag)).toBe(false)
    expect(etagMatches('"abc"', tag)).toBe(true)
    expect(etagMatches('"x", "abc"', tag)).toBe(true)
    expect(etagMatches('W/"abc"', tag)).toBe(true)
    expect(etagMatches('*', tag)).toBe(true)
    expect(etagMatches('"abcd"', tag)).toBe(false)
    expect(etagMatches('abc', tag)).toBe(false)
    expect(etagMatches('', tag)).toBe(false)
  })

  it('caches for about one poll interval', () => {
    expect(cacheControlFor(10_000)).toBe('public, max-age=10')
    expect(cacheControlFor(100)).toBe('public, max-age=1')
    expect(cacheControlFor(2_600)).toBe('public, max-age=3')
  })
})

describe('safeJson', () => {
  it('writes markup and direction characters as escapes, keeping the value', () => {
    const value = { a: '</script><b>&', b: 'x\u2028y\u202ez' }
    const text = safeJson(value)
    expect(text).not.toMatch(/[<>&\u2028\u202e]/)
    expect(JSON.parse(text)).toEqual(value)
  })
})
