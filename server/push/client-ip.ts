import type { IncomingMessage } from 'node:http'
import { BlockList, isIP } from 'node:net'

export type ClientIpOf = (req: IncomingMessage) => string

/** Named ranges accepted in a trust-proxy list, as Fastify (proxy-addr) accepts them. */
const NAMED_RANGES: Record<string, [string, number, 'ipv4' | 'ipv6'][]> = {
  loopback: [
    ['127.0.0.0', 8, 'ipv4'],
    ['::1', 128, 'ipv6'],
  ],
  linklocal: [
    ['169.254.0.0', 16, 'ipv4'],
    ['fe80::', 10, 'ipv6'],
  ],
  uniquelocal: [
    ['10.0.0.0', 8, 'ipv4'],
    ['172.16.0.0', 12, 'ipv4'],
    ['192.168.0.0', 16, 'ipv4'],
    ['fc00::', 7, 'ipv6'],
  ],
}

/**
 * The client address of an upgrade request, with the same trust-proxy semantics as the REST side
 * (Fastify's trustProxy): X-Forwarded-For is read only when config.trustProxy says so.
 * - false: the socket's peer address.
 * - true: the left-most X-Forwarded-For entry.
 * - a hop count n: the address n hops from the socket (the n proxies nearest us are trusted).
 * - a list of addresses / CIDRs / loopback|linklocal|uniquelocal: the nearest address not in the list.
 */
export function clientIpResolver(trust: boolean | number | string[]): ClientIpOf {
  if (trust === false) return (req) => peerOf(req)
  if (trust === true) {
    return (req) => {
      const chain = addressChain(req)
      return chain[chain.length - 1]!
    }
  }
  if (typeof trust === 'number') {
    return (req) => {
      const chain = addressChain(req)
      return chain[Math.min(trust, chain.length - 1)]!
    }
  }
  const trusted = trustList(trust)
  return (req) => {
    const chain = addressChain(req)
    for (const addr of chain) if (!isTrusted(trusted, addr)) return addr
    return chain[chain.length - 1]!
  }
}

function peerOf(req: IncomingMessage): string {
  return normalize(req.socket.remoteAddress ?? 'unknown')
}

/** [peer, nearest proxy's client, …, left-most X-Forwarded-For]; stops at the first entry that is not an IP. */
function addressChain(req: IncomingMessage): string[] {
  const chain = [peerOf(req)]
  const header = req.headers['x-forwarded-for']
  const value = Array.isArray(header) ? header.join(',') : header
  if (!value) return chain
  const entries = value.split(',')
  for (let i = entries.length - 1; i >= 0; i--) {
    const addr = normalize(entries[i]!.trim())
    if (isIP(addr) === 0) break
    chain.push(addr)
  }
  return chain
}

function normalize(addr: string): string {
  return addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4 ? addr.slice(7) : addr
}

function trustList(entries: string[]): BlockList {
  const list = new BlockList()
  for (const entry of entries) {
    const named = NAMED_RANGES[entry.toLowerCase()]
    if (named) {
      for (const [net, prefix, type] of named) list.addSubnet(net, prefix, type)
      continue
    }
    const [addr, bits] = entry.split('/')
    const type = isIP(addr ?? '')
    if (type === 0) continue
    const family = type === 4 ? 'ipv4' : 'ipv6'
    if (bits === undefined) list.addAddress(addr!, family)
    else list.addSubnet(addr!, Number(bits), family)
  }
  return list
}

function isTrusted(list: BlockList, addr: string): boolean {
  const type = isIP(addr)
  if (type === 0) return false
  return list.check(addr, type === 4 ? 'ipv4' : 'ipv6')
}
