import { canonicalIP, joinHostPort, parseCIDR } from '../net/ip.js';

/**
 * Addresses as rule text spells them, in the canonical form kpc writes, so the
 * same address compares equal whoever printed it. Text that is not an address
 * is kept as it is: it then shows up as a difference rather than an error.
 */
export function readIP(text: string): string {
  const trimmed = text.trim();
  try {
    return canonicalIP(trimmed);
  } catch {
    return trimmed;
  }
}

/** An address that may carry a host prefix, as iptables-save prints `-d 10.96.0.1/32`. */
export function readHost(text: string): string {
  const slash = text.indexOf('/');
  return readIP(slash < 0 ? text : text.slice(0, slash));
}

export function readCIDR(text: string): string {
  const cidr = parseCIDR(text.trim());
  return cidr ? cidr.text : text.trim();
}

/** `ip:port` or `[ipv6]:port`. */
export function readHostPort(text: string): string {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  return match ? joinHostPort(readIP(match[1]!), Number(match[2])) : text;
}
