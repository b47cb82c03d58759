import { readCIDR, readHostPort, readIP } from './addresses.js';
import { emptyModel, emptyShares, ipKey, newFrontend, nodePortKey, type Family, type Frontend, type RuleSetModel, type Shares } from './model.js';
import { basePriority, parseNftText, splitElements, type NftTableText } from './nft-text.js';
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
    this.readUnallocatedDrop();
    // Services are named by the chain an element leads to, or (compact layout: shared chains) by its comment.
    for (const element of this.elements('service-ips')) {
      const { key, target, comment } = splitMapElement(element);
      const [address, proto, port] = key.split(' . ');
      const frontend = this.frontend(ipKey(proto!, readIP(address!), port!), this.clusterIPs.has(readIP(address!)) ? 'cluster-ip' : 'external', serviceOfChain(target) ?? comment);
      if (this.compact) this.followCompact(this.compact, frontend, key, target, false);
      else this.follow(frontend, target);
    }
    for (const element of this.elements('service-nodeports')) {
      const { key, target, comment } = splitMapElement(element);
      const [proto, port] = key.split(' . ');
      const frontend = this.frontend(nodePortKey(proto!, port!), 'node-port', serviceOfChain(target) ?? comment);
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
    // The compact layout checks the no-local-endpoint drop on input and forward only (its own map), never on the node's output.
    if (!this.compact && this.nodeCheckedBeforeDNAT()) this.markNodeMeetsVerdict();
  }

  /** `ip daddr { 10.96.0.0/16, ... } drop` in cluster-ips-check (nft lists a one-element set as a bare value). */
  private readUnallocatedDrop(): void {
    for (const rule of this.rules('cluster-ips-check')) {
      const drop = /^ip6? daddr (?:\{(.*)\}|(\S+)) drop\b/.exec(rule);
      if (!drop || drop[2]?.startsWith('@')) continue;
      const ranges = drop[1] !== undefined ? splitElements(drop[1]) : [drop[2]!];
      for (const range of ranges) this.model.unallocatedDrop.push(`IPv${this.family} ${readCIDR(range)}`);
    }
    this.model.unallocatedDrop.sort();
  }

  /**
   * Whether the output hook runs service-endpoints-check (`endpoints-check`
   * in the first releases) before DNAT (priority below dstnat, -100): the
   * layout kube-proxy wrote before kubernetes#132456.
   */
  private nodeCheckedBeforeDNAT(): boolean {
    for (const [chain, spec] of this.table.chainSpecs) {
      if (!/\bhook output\b/.test(spec) || basePriority(spec) >= -100) continue;
      if (this.rules(chain).some((rule) => /\bjump (?:service-)?endpoints-check$/.test(rule))) return true;
    }
    return false;
  }

  /**
   * In that layout the node's own connection to an external address with a
   * no-endpoint verdict meets it before nat-output can short-circuit it.
   * Node ports are checked in the input hook only, so they are not affected.
   */
  private markNodeMeetsVerdict(): void {
    const prefix = `IPv${this.family} `;
    for (const [key, frontend] of this.model.frontends) {
      if (key.startsWith(prefix) && frontend.kind === 'external' && frontend.verdict !== null && frontend.shortCircuit !== null) frontend.nodeMeetsVerdict = true;
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
    frontend.masquerade = this.clusterIPMasquerade();
    for (const rule of this.rules(chain)) {
      if (!marksForMasquerade(rule)) continue;
      const offCluster = / saddr != (\S+) /.exec(rule);
      frontend.masquerade = offCluster ? `off-cluster ${readCIDR(offCluster[1]!)}` : 'all';
    }
    Object.assign(frontend, this.choice(chain));
  }

  /**
   * Since kubernetes#135800 (2026) kube-proxy marks off-cluster traffic to
   * every cluster IP once, in the services chain (`ip daddr @cluster-ips ip
   * saddr != CIDR meta mark set meta mark | 0x4000`), instead of in each
   * service chain. Null-safe for other frontends: only cluster IPs are in
   * that set.
   */
  private clusterIPMasquerade(): string {
    for (const rule of this.rules('services')) {
      if (!/daddr @cluster-ips\b/.test(rule) || !marksForMasquerade(rule)) continue;
      const offCluster = / saddr != (\S+) /.exec(rule);
      return offCluster ? `off-cluster ${readCIDR(offCluster[1]!)}` : 'all';
    }
    return 'none';
  }

  private followExternal(frontend: Frontend, chain: string): void {
    frontend.masquerade = 'none';
    for (const rule of this.rules(chain)) {
      if (marksForMasquerade(rule) && !/ saddr /.test(rule) && !/^fib /.test(rule)) frontend.masquerade = 'all';
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
   * (for ClientIP affinity, the map of the plain chain of that kind and size).
   */
  private followCompact(compact: CompactIndex, frontend: Frontend, key: string, chain: string, nodePort: boolean): void {
    if (compact.has(nodePort ? 'masquerade-nodeports' : 'masquerade-ips', key)) frontend.masquerade = 'all';
    else if (!nodePort && compact.has('masquerade-off-cluster-ips', key)) frontend.masquerade = `off-cluster ${this.offClusterCIDR()}`;
    else frontend.masquerade = 'none';
    const choose = (target: string) => {
      // ClientIP affinity: the endpoints of the plain chain's map, the timeout of the set that remembers clients.
      const affinity = compact.affinity(target);
      const picked = compact.pick(affinity?.pick ?? target, key);
      const affinitySeconds = affinity?.set ? this.timeoutOf(affinity.set) : null;
      return picked ? { endpoints: picked, affinitySeconds } : this.choice(target);
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

  /**
   * The endpoint shares of a service-/local- chain: numgen picks each of N
   * indexes equally, through endpoint chains (`vmap { 0 : goto endpoint-... }`)
   * or, since kube-proxy folded endpoint chains into the service chain (2026),
   * straight from a DNAT map (`dnat ip addr . port to numgen random mod N map
   * { 0 : 10.0.0.1 . 80 }`, listed as `dnat ip to ...`); one endpoint may be a
   * plain `dnat to 10.0.0.1:80` in the service chain (kubernetes#140723). An
   * endpoint on c indexes (`0-2 : ...` is three) gets c/N, divided once so that
   * it is the same number as iptables' 1/n.
   */
  private choice(chain: string): { endpoints: Shares; affinitySeconds: number | null } {
    const endpoints = emptyShares();
    let affinitySeconds: number | null = null;
    for (const rule of this.rules(chain)) {
      const affinity = /saddr @(\S+) goto /.exec(rule);
      if (affinity) affinitySeconds = this.timeoutOf(affinity[1]!);
      const numgen = /numgen random mod (\d+) (vmap|map) \{(.*)\}/.exec(rule);
      if (numgen) {
        const n = Number(numgen[1]);
        // Indexes per endpoint first, divided once: an endpoint twice in the map gets exactly 2/N.
        const indexes = new Map<string, number>();
        for (const entry of splitElements(numgen[3]!)) {
          const at = entry.indexOf(' : ');
          const value = at < 0 ? '' : entry.slice(at + 3).trim();
          const endpoint = numgen[2] === 'vmap' ? this.endpointOf(value.replace(/^goto /, '')) : addressDotPort(value);
          if (endpoint) indexes.set(endpoint, (indexes.get(endpoint) ?? 0) + indexesCovered(entry, n));
        }
        for (const [endpoint, count] of indexes) endpoints[endpoint] = (endpoints[endpoint] ?? 0) + count / n;
        continue;
      }
      const direct = /^(?:meta l4proto \S+ )?dnat (?:ip6? )?to (\S+)$/.exec(rule);
      if (direct) endpoints[readHostPort(direct[1]!)] = 1;
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

/**
 * Whether a rule sets kube-proxy's masquerade mark: `jump
 * mark-for-masquerade` (before kubernetes#135800), or the mark set inline,
 * as written (`mark set mark or 0x4000`) or listed (`meta mark set meta mark
 * | 0x00004000`).
 */
function marksForMasquerade(rule: string): boolean {
  return rule.endsWith('jump mark-for-masquerade') || /\b(?:meta )?mark set (?:meta )?mark (?:or|\|) \S+$/.test(rule);
}

/** A DNAT map value `10.0.0.1 . 80` (or `fd00::1 . 80`) as `ip:port`. */
function addressDotPort(value: string): string | null {
  const [ip, port] = value.split(' . ');
  return ip && port ? readHostPort(ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`) : null;
}

/** How many of numgen's N values a key covers: `1`, or a range `0-2` as nft may list it. */

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

/** How many of numgen's indexes 0..n-1 an element's key covers: `3 : goto ...` is one, `0-2 : goto ...` three. */
function indexesCovered(element: string, n: number): number {
  const key = /^\s*(\d+)(?:\s*-\s*(\d+))?/.exec(element);
  if (!key) return 0;
  const low = Number(key[1]);
  const high = key[2] === undefined ? low : Number(key[2]);
  const count = Math.min(high, n - 1) - Math.max(low, 0) + 1;
  return count > 0 ? count : 0;
}
