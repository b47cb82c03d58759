import { readCIDR, readIP } from './addresses.js';
import { emptyShares, type Shares } from './model.js';
import type { NftTableText } from './nft-text.js';
import { joinHostPort } from '../net/ip.js';

/**
 * The compact layout's lookups, indexed once per table: which endpoints a
 * frontend's key has in each DNAT map (`cluster-endpoints-n3`, key . index :
 * address . port), which sets hold it, and where its verdict maps send it.
 * Keys are normalized (canonical addresses), so kpc's file and `nft list`
 * output read the same.
 */
export class CompactIndex {
  private readonly maps = new Map<string, Map<string, string[]>>();
  private readonly sets = new Map<string, Map<string, string>>();
  private ranges: Map<string, string[]> | null = null;

  constructor(private readonly table: NftTableText) {}

  /** Endpoint shares of `key` in a DNAT chain `cluster-n3` (`null`: not such a chain). */
  pick(chain: string, key: string): Shares | null {
    const match = /^(cluster|local|nodeport-cluster|nodeport-local)-n(\d+)$/.exec(chain);
    if (!match) return null;
    const n = Number(match[2]);
    // Indexes per endpoint first, divided once: the same number as kube-proxy's layout and iptables' 1/n give.
    const indexes = new Map<string, number>();
    for (const endpoint of this.dnatMap(`${match[1]}-endpoints-n${n}`).get(normalizeKey(key)) ?? []) indexes.set(endpoint, (indexes.get(endpoint) ?? 0) + 1);
    const shares = emptyShares();
    for (const [endpoint, count] of indexes) shares[endpoint] = count / n;
    return shares;
  }

  /**
   * A ClientIP affinity chain (`cluster-n3-affinity-tcp-10800`): the plain
   * DNAT chain whose map it picks from, and the dynamic set it remembers
   * clients in (whose timeout is the affinity's). Null: not such a chain.
   */
  affinity(chain: string): { pick: string; set: string | null } | null {
    const match = /^((?:cluster|local|nodeport-cluster|nodeport-local)-n\d+)-affinity-[a-z]+-\d+$/.exec(chain);
    if (!match) return null;
    const lookup = (this.table.chains.get(chain) ?? []).map((rule) => /@(\S+) goto /.exec(rule)).find((m) => m !== null);
    return { pick: match[1]!, set: lookup ? lookup[1]! : null };
  }

  /** Whether a set (or a map, by key) holds `key`. */
  has(container: string, key: string): boolean {
    return this.entries(container).has(normalizeKey(key));
  }

  /** The chain a verdict map sends `key` to, or null. */
  target(map: string, key: string): string | null {
    const right = this.entries(map).get(normalizeKey(key));
    return right === undefined ? null : right.replace(/^goto /, '').trim();
  }

  /** Source ranges allowed to reach `key` (firewall-allow: destination . range). */
  sourceRanges(key: string): string[] {
    if (!this.ranges) {
      this.ranges = new Map();
      for (const element of this.table.containers.get('firewall-allow')?.elements ?? []) {
        const parts = element.split(' . ');
        const destination = normalizeKey(parts.slice(0, 3).join(' . '));
        let list = this.ranges.get(destination);
        if (!list) this.ranges.set(destination, (list = []));
        list.push(readCIDR(parts.slice(3).join(' . ')));
      }
    }
    return [...(this.ranges.get(normalizeKey(key)) ?? [])].sort();
  }

  /** A set's or map's elements: normalized key -> the text after ` : ` ('' for a set). */
  private entries(container: string): Map<string, string> {
    let entries = this.sets.get(container);
    if (!entries) {
      entries = new Map();
      for (const element of this.table.containers.get(container)?.elements ?? []) {
        const [left, right = ''] = element.split(' : ');
        entries.set(normalizeKey(left!.replace(/\s*comment "[^"]*"/, '')), right);
      }
      this.sets.set(container, entries);
    }
    return entries;
  }

  private dnatMap(name: string): Map<string, string[]> {
    let map = this.maps.get(name);
    if (map) return map;
    map = new Map();
    for (const element of this.table.containers.get(name)?.elements ?? []) {
      const [left, right = ''] = element.split(' : ');
      const parts = left!.trim().split(' . ');
      const key = normalizeKey(parts.slice(0, -1).join(' . '));
      const [address, port] = right.trim().split(' . ');
      let list = map.get(key);
      if (!list) map.set(key, (list = []));
      list.push(joinHostPort(readIP(address!), Number(port)));
    }
    this.maps.set(name, map);
    return map;
  }
}

/** `10.96.0.1 . tcp . 80` with each address canonical. */
function normalizeKey(key: string): string {
  return key
    .trim()
    .split(' . ')
    .map((part) => (/[.:]/.test(part) ? readIP(part) : part.trim()))
    .join(' . ');
}

/** Whether a table holds the compact layout: its DNAT maps or its hairpin set are kpc's alone. */
export function isCompactTable(table: NftTableText): boolean {
  return table.containers.has('hairpin');
}
