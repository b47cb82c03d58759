import type { IPFamily } from '../graph/types.js';
import { canonicalIP, cidrContains, ipFamily, parseCIDR } from '../net/ip.js';

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** The first packet of a new connection, as the tracer sees it. */
export interface Packet {
  family: IPFamily;
  src: string;
  dst: string;
  dport: number;
  protocol: Protocol;
}

/**
 * What the tracer knows about the node: which addresses are its own
 * (addrtype LOCAL, fib type local) and which network is the pods' (only to
 * say where a packet comes from; the rules carry their own CIDRs).
 */
export interface NodeFacts {
  ips: string[];
  clusterCIDRs: string[];
}

/** Where a packet enters: a node's own process (OUTPUT), or a pod or outside client (PREROUTING). */
export type Origin = 'node' | 'pod' | 'outside';

const LOOPBACK = [parseCIDR('127.0.0.0/8')!, parseCIDR('::1/128')!];

/** The node owns this address: one of its IPs, or loopback. */
export function isLocal(ip: string, node: NodeFacts): boolean {
  return LOOPBACK.some((cidr) => cidrContains(cidr, ip)) || node.ips.some((own) => sameIP(own, ip));
}

export function originOf(src: string, node: NodeFacts): Origin {
  if (isLocal(src, node)) return 'node';
  const inCluster = node.clusterCIDRs.some((text) => {
    const cidr = parseCIDR(text);
    return cidr !== null && cidrContains(cidr, src);
  });
  return inCluster ? 'pod' : 'outside';
}

export function sameIP(a: string, b: string): boolean {
  try {
    return canonicalIP(a) === canonicalIP(b);
  } catch {
    return a === b;
  }
}

/** `DST:PORT[/PROTO]`, IPv6 in brackets: `[fd00::1]:80/udp`. Returns a message when it is not one. */
export function parseDestination(text: string): { ip: string; port: number; protocol: Protocol } | string {
  const match = /^(?:\[([^\]]+)\]|([^:/[\]]+)):(\d{1,5})(?:\/([A-Za-z]+))?$/.exec(text);
  if (!match) return 'use DST:PORT or DST:PORT/PROTO, with IPv6 in brackets: 10.96.0.10:80, [fd00::10]:53/udp';
  const ip = match[1] ?? match[2]!;
  if (!ipFamily(ip)) return `${JSON.stringify(ip)} is not an IP address`;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return `port ${port} is not from 1 to 65535`;
  const protocol = (match[4] ?? 'tcp').toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') return `protocol ${JSON.stringify(match[4])}: use tcp, udp or sctp`;
  return { ip: canonicalIP(ip), port, protocol };
}

/** `ip:port`, IPv6 in brackets, as the rules write DNAT targets. */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
