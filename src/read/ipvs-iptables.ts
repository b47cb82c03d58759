import { readCIDR, readIP } from './addresses.js';
import { readIptablesLines } from './iptables-rules.js';
import type { Ipsets } from './ipsets.js';
import { splitArgs } from './tokens.js';

/**
 * The iptables part of IPVS mode, read against its ipsets. kube-proxy's IPVS
 * rules decide by set membership, not per service: "is this destination in
 * KUBE-CLUSTER-IP? then mark it for masquerade unless the source is in the
 * cluster CIDR". So a frontend's masquerade and source ranges are found by
 * walking the chains as the kernel would for that frontend's address,
 * protocol and port, with its set memberships looked up in the ipset part.
 */

/** A frontend as set matches see it: the addresses it is reached on, its protocol and port. */
export interface Probe {
  addresses: string[];
  protocol: string;
  port: number;
}

interface SetMatch {
  set: string;
  /** `dst,dst`, `dst,dst,src`, ...: which packet field each of the set's dimensions is matched against. */
  flags: string[];
}

interface Rule {
  protocol: string | null;
  sets: SetMatch[];
  /** `-s CIDR`, negated or not. */
  source: { cidr: string; negated: boolean } | null;
  /** Other conditions on where the packet comes from (`--src-type`, `--physdev-is-in`): true for some sources only. */
  sourceConditioned: boolean;
  /** `! --dst-type LOCAL`: never true for a frontend, whose addresses are all local (kube-ipvs0, node addresses). */
  notLocal: boolean;
  target: string;
}

/** A set match on the packet's source holds for some sources only: for a frontend, it is neither yes nor no. */
type Membership = 'yes' | 'no' | 'some sources';

/** Chains nest a few levels deep in kube-proxy's rules; more is a loop. */
const MAX_DEPTH = 16;

export class IpvsIptables {
  private readonly chains = new Map<string, Rule[]>();
  private readonly indexes = new Map<string, Map<string, string[]>>();

  constructor(
    text: string,
    private readonly sets: Ipsets,
  ) {
    for (const line of readIptablesLines(text).rules) {
      const key = `${line.table} ${line.chain}`;
      let rules = this.chains.get(key);
      if (!rules) this.chains.set(key, (rules = []));
      rules.push(parseRule(line.text));
    }
  }

  /** 'all', `off-cluster CIDR` or 'none': what nat KUBE-SERVICES marks for masquerade for this frontend's traffic. */
  masquerade(probe: Probe): string {
    const state = { masquerade: 'none' };
    this.walkNat('KUBE-SERVICES', probe, state, 0);
    return state.masquerade;
  }

  /**
   * The sources allowed by filter KUBE-PROXY-FIREWALL's jump for this
   * frontend (the RETURN rules' source sets), or null when no firewall jump
   * applies to it.
   */
  sourceRanges(probe: Probe): string[] | null {
    for (const rule of this.chain('filter', 'KUBE-PROXY-FIREWALL')) {
      if (!this.applies(rule, probe) || !rule.target.startsWith('KUBE-')) continue;
      if (this.membership(rule, probe) !== 'yes') continue;
      return this.allowedSources(rule.target, probe);
    }
    return null;
  }

  private chain(table: string, name: string): Rule[] {
    return this.chains.get(`${table} ${name}`) ?? [];
  }

  /** Follows nat rules in order; returns 'stop' where an unconditional ACCEPT ends the walk. */
  private walkNat(chain: string, probe: Probe, state: { masquerade: string }, depth: number): 'return' | 'stop' {
    if (depth > MAX_DEPTH) return 'return';
    for (const rule of this.chain('nat', chain)) {
      if (!this.applies(rule, probe)) continue;
      const membership = this.membership(rule, probe);
      if (membership === 'no') continue;
      const everySource = membership === 'yes' && !rule.sourceConditioned && rule.source === null;
      if (rule.target === 'KUBE-MARK-MASQ') {
        if (everySource) state.masquerade = 'all';
        else if (membership === 'yes' && !rule.sourceConditioned && rule.source?.negated && state.masquerade !== 'all') {
          state.masquerade = `off-cluster ${readCIDR(rule.source.cidr)}`;
        }
        // Masquerade for some other sources only (a VIP as source, say): no client class the model describes.
      } else if (!everySource) continue;
      else if (rule.target === 'RETURN') return 'return';
      else if (rule.target === 'ACCEPT') return 'stop';
      else if (rule.target.startsWith('KUBE-') && this.walkNat(rule.target, probe, state, depth + 1) === 'stop') return 'stop';
    }
    return 'return';
  }

  private allowedSources(chain: string, probe: Probe): string[] {
    const allowed: string[] = [];
    for (const rule of this.chain('filter', chain)) {
      if (!this.applies(rule, probe)) continue;
      if (rule.target === 'RETURN' && rule.sets.length === 1 && rule.sets[0]!.flags.join(',') === 'dst,dst,src') {
        allowed.push(...this.sourcesIn(rule.sets[0]!.set, probe));
      } else if ((rule.target === 'DROP' || rule.target === 'REJECT') && rule.sets.length === 0 && !rule.source && !rule.sourceConditioned) break;
    }
    return [...new Set(allowed)].sort();
  }

  /** The source member of a `dst,dst,src` set's entries for this frontend: an address or a CIDR. */
  private sourcesIn(set: string, probe: Probe): string[] {
    const index = this.destinations(set, ['dst', 'dst', 'src']);
    const port = `${probe.protocol}:${probe.port}`;
    return probe.addresses.flatMap((address) => index.get(`${address},${port}`) ?? []).map(readCIDR);
  }

  private applies(rule: Rule, probe: Probe): boolean {
    return !rule.notLocal && (rule.protocol === null || rule.protocol === probe.protocol);
  }

  /** Whether every set match of the rule holds for the frontend, whatever the packet's source. */
  private membership(rule: Rule, probe: Probe): Membership {
    for (const match of rule.sets) if (!this.member(match, probe)) return 'no';
    return rule.sets.some((match) => match.flags.includes('src')) ? 'some sources' : 'yes';
  }

  /**
   * Whether the frontend is in the set on the set's destination dimensions.
   * A dimension matched against the source (`dst,dst,src`, `src,dst`) holds
   * for some packets only: membership() says so.
   */
  private member(match: SetMatch, probe: Probe): boolean {
    const type = this.sets.type(match.set);
    if (!type) return false;
    const dimensions = type.slice(type.indexOf(':') + 1).split(',');
    const port = type.startsWith('bitmap:') ? String(probe.port) : `${probe.protocol}:${probe.port}`;
    const flags = match.flags.slice(0, dimensions.length);
    const entry = (address: string) => flags.map((_, i) => (dimensions[i] === 'port' ? port : address));
    if (flags.every((flag) => flag === 'dst')) return probe.addresses.some((address) => this.sets.has(match.set, entry(address).join(',')));
    const index = this.destinations(match.set, flags);
    return probe.addresses.some((address) => index.has(entry(address).filter((_, i) => flags[i] === 'dst').join(',')));
  }

  /** A set's entries by their destination dimensions, each with its source dimension: built once per set and flags. */
  private destinations(set: string, flags: string[]): Map<string, string[]> {
    const key = `${set} ${flags.join(',')}`;
    let index = this.indexes.get(key);
    if (index) return index;
    this.indexes.set(key, (index = new Map()));
    for (const entry of this.sets.entries(set)) {
      const parts = entry.split(',');
      const destination = parts.filter((_, i) => flags[i] === 'dst').join(',');
      const sources = index.get(destination) ?? [];
      sources.push(parts.filter((_, i) => flags[i] === 'src').join(','));
      index.set(destination, sources);
    }
    return index;
  }
}

function parseRule(line: string): Rule {
  const args = splitArgs(line);
  const rule: Rule = { protocol: null, sets: [], source: null, sourceConditioned: false, notLocal: false, target: '' };
  let negated = false;
  for (let i = 2; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '!') {
      negated = true;
      continue;
    }
    switch (arg) {
      case '-p':
      case '--protocol':
        rule.protocol = (args[++i] ?? '').toLowerCase();
        break;
      case '-s':
      case '--source':
        rule.source = { cidr: args[++i] ?? '', negated };
        break;
      case '--match-set':
        rule.sets.push({ set: args[++i] ?? '', flags: (args[++i] ?? '').split(',') });
        break;
      case '--src-type':
      case '--physdev-is-in':
        if (arg === '--src-type') i++;
        rule.sourceConditioned = true;
        break;
      case '--dst-type':
        // Every frontend address is local (kube-ipvs0 or the node's own): only the negation excludes it.
        if ((args[++i] ?? '') === 'LOCAL' && negated) rule.notLocal = true;
        break;
      case '-j':
      case '--jump':
        rule.target = args[++i] ?? '';
        break;
    }
    negated = false;
  }
  return rule;
}

/** The address of a frontend key's `ip:port` or `[ipv6]:port`, as set entries spell it. */
export function addressOf(hostPort: string): string {
  return readIP(hostPort.replace(/^\[/, '').replace(/\]?:\d+$/, ''));
}
