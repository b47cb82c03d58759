import { readCIDR, readHostPort, readIP } from './addresses.js';
import { emptyModel, emptyShares, ipKey, newFrontend, nodePortKey, type Family, type Frontend, type RuleSetModel, type Shares } from './model.js';
import { parseNftText, splitElements, type NftTableText } from './nft-text.js';
import { CompactIndex, isCompactTable } from './nft-compact.js';

/** Reads nft text (kpc's `nft -f` file or `nft list` output) into the rule-set model. */
export function readNftables(text: string): RuleSetModel {
  const model = emptyModel('nftables');
  for (const table of parseNftText(text)) {
    if (table.name !== 'kube-proxy' || (table.family !== 'ip' && table.family !== 'ip6')) {
      model.foreign.push(`table ${table.family} ${table.name}`);
      continue;
    }
    const family: Family = table.family === 'ip' ? 4 : 6;
    model.families.push(family);
    new TableReader(table, family, model).read();
  }
  model.families.sort();
  return model;
}

class TableReader {
  private readonly clusterIPs: Set<string>;
  /** The compact layout's lookups, or null for kube-proxy's layout. */
  private readonly compact: CompactIndex | null;

  constructor(
    private readonly table: NftTableText,
    private readonly family: Family,
    private readonly model: RuleSetModel,
  ) {
    this.clusterIPs = new Set((table.containers.get('cluster-ips')?.elements ?? []).map(readIP));
    this.compact = isCompactTable(table) ? new CompactIndex(table) : null;
  }

  read(): void {
    for (const element of this.elements('service-ips')) {
      const { key, target } = splitMapElement(element);
      const [address, proto, port] = key.split(' . ');
      const frontend = this.frontend(ipKey(proto!, readIP(address!), port!), this.clusterIPs.has(readIP(address!)) ? 'cluster-ip' : 'external', serviceOfChain(target));
      if (this.compact) this.followCompact(this.compact, frontend, key, target, false);
      else this.follow(frontend, target);
    }
    for (const element of this.elements('service-nodeports')) {
      const { key, target } = splitMapElement(element);
      const [proto, port] = key.split(' . ');
      const frontend = this.frontend(nodePortKey(proto!, port!), 'node-port', serviceOfChain(target));
      if (this.compact) this.followCompact(this.compact, frontend, key, target, true);
      else this.follow(frontend, target);
    }
    for (const element of this.elements('no-endpoint-services')) {
      const { key, target, comment } = splitMapElement(element);
      const [address, proto, port] = key.split(' . ');
      const kind = this.clusterIPs.has(readIP(address!)) ? 'cluster-ip' : 'external';
      this.frontend(ipKey(proto!, readIP(address!), port!), kind, comment).verdict = verdictOf(target);
    }
    // The compact layout's policy Local drops that the node's own traffic skips: a verdict all the same.
    for (const element of this.elements('no-local-endpoint-external')) {
      const { key, target, comment } = splitMapElement(element);
      const [address, proto, port] = key.split(' . ');
      this.frontend(ipKey(proto!, readIP(address!), port!), 'external', comment).verdict = verdictOf(target);
    }
    for (const element of this.elements('no-endpoint-nodeports')) {
      const { key, target, comment } = splitMapElement(element);
      const [proto, port] = key.split(' . ');
      this.frontend(nodePortKey(proto!, port!), 'node-port', comment).verdict = verdictOf(target);
    }
    for (const element of this.elements('firewall-ips')) {
      const { key, target } = splitMapElement(element);
      const [address, proto, port] = key.split(' . ');
      const ranges = this.compact ? this.compact.sourceRanges(key) : this.sourceRanges(target);
      this.frontend(ipKey(proto!, readIP(address!), port!), 'external', serviceOfChain(target)).sourceRanges = ranges;
    }
  }

  private elements(name: string): string[] {
    return this.table.containers.get(name)?.elements ?? [];
  }

  private rules(chain: string): string[] {
    return this.table.chains.get(chain) ?? [];
  }

  private frontend(key: string, kind: Frontend['kind'], service: string | null): Frontend {
    const full = `IPv${this.family} ${key}`;
    let frontend = this.model.frontends.get(full);
    if (!frontend) this.model.frontends.set(full, (frontend = newFrontend(key, kind, service)));
    if (service && !frontend.service) frontend.service = service;
    return frontend;
  }

  private follow(frontend: Frontend, chain: string): void {
    if (chain.startsWith('external-')) return this.followExternal(frontend, chain);
    frontend.masquerade = 'none';
    for (const rule of this.rules(chain)) {
      if (!rule.endsWith('jump mark-for-masquerade')) continue;
      const offCluster = / saddr != (\S+) jump/.exec(rule);
      frontend.masquerade = offCluster ? `off-cluster ${readCIDR(offCluster[1]!)}` : 'all';
    }
    Object.assign(frontend, this.choice(chain));
  }

  private followExternal(frontend: Frontend, chain: string): void {
    frontend.masquerade = 'none';
    for (const rule of this.rules(chain)) {
      if (rule === 'jump mark-for-masquerade') frontend.masquerade = 'all';
      else if (/^(ip6? saddr \S+|fib saddr type local) goto /.test(rule)) frontend.shortCircuit = this.choice(rule.split(' goto ')[1]!).endpoints;
      else if (rule.startsWith('goto ')) {
        const chosen = this.choice(rule.slice(5));
        frontend.endpoints = chosen.endpoints;
        frontend.affinitySeconds = chosen.affinitySeconds;
      }
    }
  }

  /**
   * The compact layout: masquerade from the sets the `services` chain looks the
   * frontend up in, endpoints from the DNAT map of the chain it is sent to
   * (or, for ClientIP affinity, from the port's own chain as kube-proxy's layout has it).
   */
  private followCompact(compact: CompactIndex, frontend: Frontend, key: string, chain: string, nodePort: boolean): void {
    if (compact.has(nodePort ? 'masquerade-nodeports' : 'masquerade-ips', key)) frontend.masquerade = 'all';
    else if (!nodePort && compact.has('masquerade-off-cluster-ips', key)) frontend.masquerade = `off-cluster ${this.offClusterCIDR()}`;
    else frontend.masquerade = 'none';
    const choose = (target: string) => {
      const picked = compact.pick(target, key);
      return picked ? { endpoints: picked, affinitySeconds: null } : this.choice(target);
    };
    if (chain === 'external-local' || chain === 'nodeport-external-local') {
      const suffix = nodePort ? 'nodeports' : 'ips';
      const short = compact.target(`pods-to-cluster-${suffix}`, key) ?? compact.target(`node-to-cluster-${suffix}`, key);
      if (short) frontend.shortCircuit = choose(short).endpoints;
      const rest = compact.target(`external-local-${suffix}`, key);
      if (rest) Object.assign(frontend, choose(rest));
      return;
    }
    Object.assign(frontend, choose(chain));
  }

  /** The cluster CIDR of the compact layout's off-cluster masquerade rule. */
  private offClusterCIDR(): string {
    for (const rule of this.rules('services')) {
      const match = /saddr != (\S+) .*@masquerade-off-cluster-ips/.exec(rule);
      if (match) return readCIDR(match[1]!);
    }
    return 'unknown';
  }

  /** The endpoint shares of a service-/local- chain: numgen picks each of N equally. */
  private choice(chain: string): { endpoints: Shares; affinitySeconds: number | null } {
    const endpoints = emptyShares();
    let affinitySeconds: number | null = null;
    for (const rule of this.rules(chain)) {
      const affinity = /saddr @(\S+) goto /.exec(rule);
      if (affinity) affinitySeconds = this.timeoutOf(affinity[1]!);
      const numgen = /numgen random mod (\d+) vmap \{(.*)\}/.exec(rule);
      if (!numgen) continue;
      const n = Number(numgen[1]);
      for (const entry of splitElements(numgen[2]!)) {
        const target = entry.split(' goto ')[1];
        const endpoint = target ? this.endpointOf(target) : null;
        if (endpoint) endpoints[endpoint] = (endpoints[endpoint] ?? 0) + 1 / n;
      }
    }
    return { endpoints, affinitySeconds };
  }

  private endpointOf(chain: string): string | null {
    for (const rule of this.rules(chain)) {
      const dnat = /dnat (?:ip6? )?to (\S+)$/.exec(rule);
      if (dnat) return readHostPort(dnat[1]!);
    }
    return null;
  }

  private timeoutOf(set: string): number | null {
    const spec = this.table.containers.get(set)?.spec ?? '';
    const timeout = /timeout ([0-9dhms]+)/.exec(spec);
    return timeout ? seconds(timeout[1]!) : null;
  }

  private sourceRanges(chain: string): string[] {
    for (const rule of this.rules(chain)) {
      // nft lists a one-element set as a bare value: `saddr != 203.0.113.0/24 drop`.
      const ranges = /saddr != (?:\{(.*)\}|(\S+)) drop/.exec(rule);
      if (ranges) return (ranges[1] !== undefined ? splitElements(ranges[1]) : [ranges[2]!]).map(readCIDR).sort();
    }
    return [];
  }
}

/** `key [comment "x"] : verdict` → parts. */
function splitMapElement(element: string): { key: string; target: string; comment: string | null } {
  const [left, right = ''] = element.split(' : ');
  const comment = /comment "([^"]*)"/.exec(left!);
  return { key: left!.replace(/\s*comment "[^"]*"/, '').trim(), target: right.replace(/^goto /, '').trim(), comment: comment ? comment[1]! : null };
}

function verdictOf(target: string): 'reject' | 'drop' {
  return target === 'drop' ? 'drop' : 'reject';
}

/** `service-HASH-ns/name/proto/port` → `ns/name:port` (or `ns/name` for an unnamed port). */
function serviceOfChain(chain: string): string | null {
  const match = /^(?:service|external|local|firewall)-[A-Z2-7]{8}-([^/]+)\/([^/]+)\/[a-z]+\/(.*)$/.exec(chain);
  if (!match) return null;
  return match[3] ? `${match[1]}/${match[2]}:${match[3]}` : `${match[1]}/${match[2]}`;
}

/** nft durations: `10800s`, `3h`, `1d2h`, `10m`. */
function seconds(text: string): number {
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|d|h|m|s)/g)) {
    total += Number(n) * ({ d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 } as Record<string, number>)[unit!]!;
  }
  return total;
}
