import { readCIDR, readIP } from './addresses.js';

/**
 * ipset text as data: `ipset restore` input (kpc's ipset part) or `ipset
 * save` output, which use the same lines. Entries are kept in one spelling
 * (lower case, canonical addresses), so an entry compares equal whoever
 * printed it.
 */
export interface Ipsets {
  /** The set's type (`hash:ip,port`, `bitmap:port`, ...), or null when no such set was created. */
  type(set: string): string | null;
  has(set: string, entry: string): boolean;
  entries(set: string): string[];
  /** Every set created or added to, in the order first seen. */
  names(): string[];
}

export function parseIpsets(text: string): Ipsets {
  const types = new Map<string, string>();
  const members = new Map<string, Set<string>>();
  const setOf = (name: string) => {
    let set = members.get(name);
    if (!set) members.set(name, (set = new Set()));
    return set;
  };
  for (const raw of text.split('\n')) {
    const [verb, name, value] = raw.trim().split(/\s+/);
    if (!name || !value) continue;
    if (verb === 'create' || verb === '-N') {
      types.set(name, value);
      setOf(name);
    } else if (verb === 'add' || verb === '-A') setOf(name).add(normalizeEntry(value));
    else if (verb === 'flush' || verb === '-F') setOf(name).clear();
  }
  return {
    type: (set) => types.get(set) ?? null,
    has: (set, entry) => members.get(set)?.has(normalizeEntry(entry)) ?? false,
    entries: (set) => [...(members.get(set) ?? [])],
    names: () => [...members.keys()],
  };
}

/**
 * One spelling per entry: `IP,proto:port[,IP|CIDR]`, a port, or an address.
 * ipset save prints a net of a whole address with its prefix (`/32`), and
 * a port by number (kube-proxy's sets never use service names).
 */
export function normalizeEntry(entry: string): string {
  return entry
    .toLowerCase()
    .split(',')
    .map((part) => {
      const portPart = /^([a-z]+):(\d+)$/.exec(part);
      if (portPart) return `${portPart[1]}:${Number(portPart[2])}`;
      if (/^\d+$/.test(part)) return String(Number(part));
      return part.includes('/') ? readCIDR(part) : readIP(part);
    })
    .join(',');
}
