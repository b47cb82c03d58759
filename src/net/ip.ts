import ipaddr from 'ipaddr.js';
import type { IPFamily } from '../graph/types.js';
import { dottedQuadValue, networkOf, octetsOf } from './dotted-quad.js';

/**
 * IP and CIDR helpers over ipaddr.js. Kubernetes accepts only plain dotted-quad
 * IPv4 and standard IPv6 text, so shorthand forms ipaddr.js would accept
 * ("10.1", "0x0a000001") are refused here.
 */

export function parseIP(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (typeof text !== 'string' || text.length > 45) return null;
  const v4 = dottedQuadValue(text);
  if (v4 >= 0) return new ipaddr.IPv4(octetsOf(v4));
  return parseIPv6(text);
}

function parseIPv6(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (text.includes(':') && !text.includes('%') && ipaddr.IPv6.isValid(text)) {
    const ip = ipaddr.IPv6.parse(text);
    // An IPv4-mapped IPv6 address is an IPv4 address in disguise; kube-proxy treats it as IPv4.
    return ip.isIPv4MappedAddress() ? ip.toIPv4Address() : ip;
  }
  return null;
}

// isIP, ipFamily and canonicalIP answer a dotted quad without building an
// ipaddr.js object: a dotted quad is already canonical, and these run once or
// more per endpoint.

export function isIP(text: string): boolean {
  if (typeof text === 'string' && dottedQuadValue(text) >= 0) return true;
  return parseIP(text) !== null;
}

export function ipFamily(text: string): IPFamily | null {
  if (typeof text === 'string' && dottedQuadValue(text) >= 0) return 4;
  const ip = parseIP(text);
  if (!ip) return null;
  return ip.kind() === 'ipv4' ? 4 : 6;
}

/** The canonical text of an address: IPv6 compressed and lower case, as the kernel prints it. */
export function canonicalIP(text: string): string {
  if (typeof text === 'string' && dottedQuadValue(text) >= 0) return text;
  const ip = parseIP(text);
  if (!ip) throw new Error(`not an IP address: ${text}`);
  return ip.toString();
}

export interface CIDR {
  text: string;
  family: IPFamily;
  range: [ipaddr.IPv4 | ipaddr.IPv6, number];
}

/** Parses `a.b.c.d/n` or `x::/n`; a bare address counts as a host route. */
export function parseCIDR(text: string): CIDR | null {
  if (typeof text !== 'string') return null;
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const ip = parseIP(address);
  if (!ip) return null;
  const family: IPFamily = ip.kind() === 'ipv4' ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const suffix = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(suffix)) return null;
    bits = Number(suffix);
    if (bits > max) return null;
  }
  if (family === 4) return ipv4CIDR(ip as ipaddr.IPv4, bits);
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${ip}/${bits}`);
  return { text: `${network.toString()}/${bits}`, family, range: [network, bits] };
}

function ipv4CIDR(ip: ipaddr.IPv4, bits: number): CIDR {
  const [a, b, c, d] = ip.octets as [number, number, number, number];
  const network = new ipaddr.IPv4(octetsOf(networkOf(((a * 256 + b) * 256 + c) * 256 + d, bits)));
  return { text: `${network.toString()}/${bits}`, family: 4, range: [network, bits] };
}

export function cidrContains(cidr: CIDR, ipText: string): boolean {
  const ip = parseIP(ipText);
  if (!ip || ip.kind() !== cidr.range[0].kind()) return false;
  return ip.match(cidr.range as [ipaddr.IPv4, number]);
}

/** Formats `ip:port` as Go's net.JoinHostPort does (IPv6 in brackets). */
export function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
