import { readCIDR, readHost, readHostPort } from './addresses.js';
import { add, isZero, multiply, ONE, subtract, toNumber, ZERO, type Fraction } from './fraction.js';
import { readIptablesLines, readIptablesOptions, type IptablesLine, type IptablesOptions } from './iptables-rules.js';
import { emptyModel, emptyShares, ipKey, newFrontend, nodePortKey, type Family, type Frontend, type RuleSetModel, type Shares } from './model.js';
import { endpointsLeftByPlace, isOneIn, statisticShare } from './statistic.js';

/** Reads iptables-save or iptables-restore text (one family) into the rule-set model. */
export function readIptables(text: string): RuleSetModel {
  const { rules, declared } = readIptablesLines(text);
  return new IptablesReader(rules, declared).read();
}

/**
 * A rule as the reader holds it: its line, options read each time the reader
 * comes to it (most rules are read once; held for all rules at once, their
 * options would cost more than reading them).
 */
type Rule = IptablesLine;

function optionsOf(rule: Rule): IptablesOptions {
  return readIptablesOptions(rule.text);
}

/** Whether any option's value is an IPv6 address (a `::` is enough to tell, and cheap to look for first). */
function hasIPv6Address(rule: Rule): boolean {
  // An option's value can hold `::` only where the line does, or where a dropped quote joins two colons (`:"":`).
  if (!rule.text.includes('::') && !rule.text.includes(':"')) return false;
  for (const option of optionsOf(rule).values()) if (option.value.includes('::') && /^\[?[0-9a-f]*:[0-9a-f:]*[\]/]?/.test(option.value)) return true;
  return false;
}

const OURS = /^KUBE-/;
const BUILTIN = new Set(['INPUT', 'OUTPUT', 'FORWARD', 'PREROUTING', 'POSTROUTING']);

class IptablesReader {
  /** Rules by table, then chain: a chain name is looked up as it is, without a `table chain` key built for each lookup. */
  private readonly byTable = new Map<string, Map<string, Rule[]>>();
  private readonly model = emptyModel('iptables');
  private family: Family = 4;
  private readonly sharesByChain = new Map<string, { shares: Shares; affinity: number | null }>();

  constructor(
    private readonly rules: Rule[],
    private readonly declared: string[],
  ) {
    // iptables-save lists each chain's rules together: only a rule that starts another chain is looked up.
    let last: Rule[] = [];
    let previous: Rule | null = null;
    for (const rule of rules) {
      if (previous?.chain !== rule.chain || previous.table !== rule.table) last = this.listOf(rule.table, rule.chain);
      last.push(rule);
      previous = rule;
    }
    this.family = rules.some(hasIPv6Address) ? 6 : 4;
  }

  read(): RuleSetModel {
    this.model.families = this.rules.length ? [this.family] : [];
    this.collectForeign();
    for (const rule of this.chain('nat', 'KUBE-SERVICES')) this.natServiceRule(rule);
    for (const rule of this.chain('nat', 'KUBE-NODEPORTS')) this.natNodePortRule(rule);
    for (const rule of this.chain('filter', 'KUBE-SERVICES')) this.filterVerdict(rule, 'cluster-ip');
    for (const rule of this.chain('filter', 'KUBE-EXTERNAL-SERVICES')) this.filterVerdict(rule, 'external');
    for (const rule of this.chain('filter', 'KUBE-PROXY-FIREWALL')) this.firewallDrop(rule);
    return this.model;
  }

  private listOf(table: string, chain: string): Rule[] {
    let chains = this.byTable.get(table);
    if (!chains) this.byTable.set(table, (chains = new Map()));
    let list = chains.get(chain);
    if (!list) chains.set(chain, (list = []));
    return list;
  }

  private chain(table: string, name: string): Rule[] {
    return this.byTable.get(table)?.get(name) ?? [];
  }

  private collectForeign(): void {
    for (const rule of this.rules) {
      if (OURS.test(rule.chain)) continue;
      if (BUILTIN.has(rule.chain) && OURS.test(optionsOf(rule).get('-j')?.value ?? '')) continue;
      this.model.foreign.push(`${rule.table}: ${rule.text}`);
    }
    for (const declared of this.declared) {
      const [table, chain] = declared.split(' ');
      if (!OURS.test(chain!) && !BUILTIN.has(chain!) && !this.hasRules(declared)) this.model.foreign.push(`${table}: chain ${chain}`);
    }
  }

  /** Whether a declared `table chain` has rules (a chain name holds no space; a table name might). */
  private hasRules(declared: string): boolean {
    const space = declared.lastIndexOf(' ');
    return this.chain(declared.slice(0, space), declared.slice(space + 1)).length > 0;
  }

  private frontend(key: string, kind: Frontend['kind'], service: string | null): Frontend {
    const full = `IPv${this.family} ${key}`;
    let frontend = this.model.frontends.get(full);
    if (!frontend) this.model.frontends.set(full, (frontend = newFrontend(key, kind, service)));
    if (service && !frontend.service) frontend.service = service;
    if (kind === 'cluster-ip') frontend.kind = kind;
    return frontend;
  }

  private natServiceRule(rule: Rule): void {
    const options = optionsOf(rule);
    const dest = options.get('-d')?.value;
    const port = options.get('--dport')?.value;
    const proto = options.get('-p')?.value;
    const target = options.get('-j')?.value ?? '';
    if (!dest || !port || !proto || !OURS.test(target)) return;
    const comment = options.get('--comment')?.value ?? '';
    const kind = comment.endsWith(' cluster IP') ? 'cluster-ip' : 'external';
    const frontend = this.frontend(ipKey(proto, readHost(dest), port), kind, serviceOf(comment));
    this.follow(frontend, target, readHost(dest), port);
  }

  private natNodePortRule(rule: Rule): void {
    const options = optionsOf(rule);
    const port = options.get('--dport')?.value;
    const proto = options.get('-p')?.value;
    const target = options.get('-j')?.value ?? '';
    if (!port || !proto || !OURS.test(target)) return;
    const frontend = this.frontend(nodePortKey(proto, port), 'node-port', serviceOf(options.get('--comment')?.value ?? ''));
    this.follow(frontend, target, null, port);
  }

  private filterVerdict(rule: Rule, kind: Frontend['kind']): void {
    const options = optionsOf(rule);
    const target = options.get('-j')?.value;
    if (target !== 'REJECT' && target !== 'DROP') return;
    const proto = options.get('-p')?.value;
    const port = options.get('--dport')?.value;
    if (!proto || !port) return;
    const dest = options.get('-d')?.value;
    const service = serviceOf(options.get('--comment')?.value ?? '');
    const frontend = dest
      ? this.frontend(ipKey(proto, readHost(dest), port), kind, service)
      : this.frontend(nodePortKey(proto, port), 'node-port', service);
    frontend.verdict = target === 'REJECT' ? 'reject' : 'drop';
  }

  private firewallDrop(rule: Rule): void {
    // Whatever the FW chain did not DNAT is dropped here: the ranges were read from the FW chain.
    const options = optionsOf(rule);
    const dest = options.get('-d')?.value;
    if (options.get('-j')?.value !== 'DROP' || !dest) return;
    const key = `IPv${this.family} ${ipKey(options.get('-p')?.value ?? '', readHost(dest), options.get('--dport')?.value ?? '')}`;
    const frontend = this.model.frontends.get(key);
    if (frontend) frontend.sourceRanges ??= [];
  }

  /** Walks from a frontend's first chain to its endpoints, recording what each chain decides. */
  private follow(frontend: Frontend, chain: string, ip: string | null, port: string): void {
    if (chain.startsWith('KUBE-FW-')) {
      const ranges: string[] = [];
      let next: string | null = null;
      for (const rule of this.chain('nat', chain)) {
        const options = optionsOf(rule);
        const target = options.get('-j')?.value;
        const source = options.get('-s')?.value;
        if (target && source) {
          ranges.push(readCIDR(source));
          next = target;
        }
      }
      frontend.sourceRanges = ranges.sort();
      if (next) this.follow(frontend, next, ip, port);
      return;
    }
    if (chain.startsWith('KUBE-EXT-')) {
      this.followExternal(frontend, chain);
      return;
    }
    frontend.masquerade = 'none';
    this.followPolicyChain(frontend, chain, ip, port);
  }

  private followExternal(frontend: Frontend, chain: string): void {
    frontend.masquerade = 'none';
    for (const rule of this.chain('nat', chain)) {
      const options = optionsOf(rule);
      const target = options.get('-j')?.value ?? '';
      const source = options.get('-s');
      const localSource = options.get('--src-type')?.value === 'LOCAL';
      if (target === 'KUBE-MARK-MASQ' && !source && !localSource) frontend.masquerade = 'all';
      else if ((source && !source.negated) || localSource) {
        if (target !== 'KUBE-MARK-MASQ') frontend.shortCircuit = this.shares(target).shares;
      } else if (OURS.test(target) && target !== 'KUBE-MARK-MASQ') {
        const chosen = this.shares(target);
        frontend.endpoints = chosen.shares;
        frontend.affinitySeconds = chosen.affinity;
      }
    }
  }

  private followPolicyChain(frontend: Frontend, chain: string, ip: string | null, port: string): void {
    for (const rule of this.chain('nat', chain)) {
      const options = optionsOf(rule);
      if (options.get('-j')?.value !== 'KUBE-MARK-MASQ') continue;
      const dest = options.get('-d')?.value;
      if (ip && dest && readHost(dest) !== ip) continue;
      if (options.get('--dport')?.value && options.get('--dport')!.value !== port) continue;
      const source = options.get('-s');
      frontend.masquerade = source?.negated ? `off-cluster ${readCIDR(source.value)}` : 'all';
    }
    const chosen = this.shares(chain);
    frontend.endpoints = chosen.shares;
    frontend.affinitySeconds = chosen.affinity;
  }

  /**
   * Endpoint shares of a KUBE-SVC/SVL chain, read once per chain: a service's
   * cluster IP, node port and external IPs all lead to it, and their frontends
   * share the result (nothing changes a model once it is read).
   */
  private shares(chain: string): { shares: Shares; affinity: number | null } {
    let chosen = this.sharesByChain.get(chain);
    if (!chosen) this.sharesByChain.set(chain, (chosen = this.readShares(chain)));
    return chosen;
  }

  /**
   * Each statistic rule takes its probability of what is left; the rule
   * without one takes the rest. kube-proxy's chain of n endpoints means
   * exactly 1/n each, and is read so (see statisticShare), so the iptables
   * and nftables forms of a rule set, and a kernel's listing of it, give
   * equal shares; any other chain is added up exactly, in fractions.
   */
  private readShares(chain: string): { shares: Shares; affinity: number | null } {
    const shares = emptyShares();
    let affinity: number | null = null;
    const picks: { endpoint: string; probability: string | undefined }[] = [];
    for (const rule of this.chain('nat', chain)) {
      const options = optionsOf(rule);
      const target = options.get('-j')?.value ?? '';
      if (!target.startsWith('KUBE-SEP-')) continue;
      if (options.has('--rcheck')) {
        affinity = Number(options.get('--seconds')?.value ?? 0);
        continue;
      }
      const endpoint = this.endpointOf(target);
      if (endpoint) picks.push({ endpoint, probability: options.get('--probability')?.value });
    }
    const left = endpointsLeftByPlace(picks.map((p) => p.probability !== undefined));
    if (isKubeProxyChain(picks, left)) {
      // Endpoint i of n gets 1/n (k/n when kube-proxy lists an endpoint k times).
      for (const { endpoint } of picks) shares[endpoint] = (shares[endpoint] ?? 0) + 1;
      for (const endpoint in shares) shares[endpoint]! /= picks.length;
      return { shares, affinity };
    }
    const exact = new Map<string, Fraction>();
    let rest = ONE;
    picks.forEach(({ endpoint, probability }, i) => {
      if (isZero(rest)) return;
      const p = probability === undefined ? ONE : (statisticShare(probability, left[i]!) ?? ONE);
      const share = multiply(rest, p);
      exact.set(endpoint, add(exact.get(endpoint) ?? ZERO, share));
      rest = subtract(rest, share);
    });
    for (const [endpoint, share] of exact) shares[endpoint] = toNumber(share);
    return { shares, affinity };
  }

  private endpointOf(chain: string): string | null {
    for (const rule of this.chain('nat', chain)) {
      // Most KUBE-SEP chains start with a KUBE-MARK-MASQ rule: not split when its text cannot hold a --to-destination.
      if (!rule.text.includes('--to-destination') && !rule.text.includes('"')) continue;
      const to = optionsOf(rule).get('--to-destination')?.value;
      if (to) return readHostPort(to);
    }
    return null;
  }
}

/** `ns/name:port cluster IP` → `ns/name:port`; kube-proxy's comments start with the service port name. */
function serviceOf(comment: string): string | null {
  const first = comment.split(' ')[0] ?? '';
  return /^[a-z0-9-]+\/[a-z0-9-]+(:[a-z0-9-]+)?$/.test(first) ? first : null;
}

/**
 * kube-proxy's layout: every endpoint's rule but the last has a statistic
 * match, each 1/k for the k endpoints its place leaves (checked in plain
 * numbers: this is every Service of a large rule set).
 */
function isKubeProxyChain(picks: { probability: string | undefined }[], left: (number | null)[]): boolean {
  const last = picks.length - 1;
  return picks.every(({ probability }, i) => (i === last ? probability === undefined : probability !== undefined && isOneIn(Number(probability), left[i]!)));
}
