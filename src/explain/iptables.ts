import { cidrContains, parseCIDR } from '../net/ip.js';
import { compare, formatFraction, ONE, subtract, type Fraction } from '../read/fraction.js';
import { parseIptablesText, type IptablesRule } from '../read/iptables-rules.js';
import { endpointsLeftByPlace, statisticShare } from '../read/statistic.js';
import { isLocal, originOf, type NodeFacts, type Packet } from './packet.js';
import { walkHooks, type Hook, type HookRunner } from './pipeline.js';
import { commentService, refusalReason } from './reasons.js';
import type { Explanation } from './trace.js';
import { runChain, translated, withStep, type Action, type Branch, type Ended, type Interpreter, type State } from './walk.js';

/**
 * Traces a packet through iptables-save text as the kernel walks it: each
 * hook's tables in priority order (raw, mangle, nat, filter, security), each
 * table's built-in chain rule by rule, its policy where the chain ends.
 */
export function traceIptables(text: string, packet: Packet, node: NodeFacts): Explanation {
  const parsed = parseIptablesText(text);
  const runner = new IptablesHooks(parsed, node);
  const other = otherFamilyOnly(parsed.rules, packet.family);
  if (other) runner.warnings.push(`these rules name IPv${other} addresses only, and iptables keeps one family per table set: an IPv${packet.family} packet needs the ${packet.family === 6 ? 'ip6tables-save' : 'iptables-save'} rules`);
  return walkHooks(runner, 'iptables', packet, originOf(packet.src, node), node);
}

/** The other family, when every address the rules name is of it (an iptables-save text given for an ip6tables packet). */
function otherFamilyOnly(rules: IptablesRule[], family: 4 | 6): 4 | 6 | null {
  const addresses = rules.flatMap((r) => ['-s', '-d', '--to-destination'].map((o) => r.options.get(o)?.value).filter((v): v is string => Boolean(v)));
  if (!addresses.length) return null;
  const v6 = addresses.map((a) => a.includes(':') && !/^[0-9.]+:\d+$/.test(a));
  const other = family === 4 ? 6 : 4;
  return v6.every((is) => is === (other === 6)) ? other : null;
}

/** Tables at each hook, in the kernel's priority order; nat is DNAT before routing and SNAT after. */
const HOOK_TABLES: Record<Hook, [string, string][]> = {
  prerouting: [['raw', 'PREROUTING'], ['mangle', 'PREROUTING'], ['nat', 'PREROUTING']],
  input: [['mangle', 'INPUT'], ['filter', 'INPUT'], ['security', 'INPUT'], ['nat', 'INPUT']],
  forward: [['mangle', 'FORWARD'], ['filter', 'FORWARD'], ['security', 'FORWARD']],
  output: [['raw', 'OUTPUT'], ['mangle', 'OUTPUT'], ['nat', 'OUTPUT'], ['filter', 'OUTPUT'], ['security', 'OUTPUT']],
  postrouting: [['mangle', 'POSTROUTING'], ['nat', 'POSTROUTING']],
};

class IptablesHooks implements HookRunner {
  readonly warnings: string[] = [];
  private readonly byChain = new Map<string, IptablesRule[]>();
  /** For each statistic rule, how many endpoints its place in its chain leaves (see statisticShare). */
  private readonly endpointsLeft = new Map<IptablesRule, number>();

  constructor(
    private readonly parsed: ReturnType<typeof parseIptablesText>,
    private readonly node: NodeFacts,
  ) {
    for (const declared of parsed.declared) this.byChain.set(declared, []);
    for (const rule of parsed.rules) {
      const key = `${rule.table} ${rule.chain}`;
      let list = this.byChain.get(key);
      if (!list) this.byChain.set(key, (list = []));
      list.push(rule);
    }
    for (const rules of this.byChain.values()) {
      endpointsLeftByPlace(rules.map((r) => r.options.has('--probability'))).forEach((left, i) => {
        if (left !== null) this.endpointsLeft.set(rules[i]!, left);
      });
    }
  }

  run(hook: Hook, states: State[]): { passed: State[]; ended: Ended[] } {
    let passed = states;
    const ended: Ended[] = [];
    for (const [table, chain] of HOOK_TABLES[hook]) {
      if (!this.byChain.has(`${table} ${chain}`) || !passed.length) continue;
      const result = runChain(this.interpreter(table), chain, passed);
      const policy = this.parsed.policies.get(`${table} ${chain}`) ?? 'ACCEPT';
      const fellThrough = policy === 'DROP' ? [] : result.returned;
      if (policy === 'DROP') ended.push(...result.returned.map((state) => ({ state: { ...state, reason: `${table} ${chain} policy DROP` }, verdict: 'drop' as const })));
      passed = [...fellThrough, ...result.ended.filter((e) => e.verdict === 'accept').map((e) => e.state)];
      ended.push(...result.ended.filter((e) => e.verdict !== 'accept'));
    }
    return { passed, ended };
  }

  private interpreter(table: string): Interpreter<IptablesRule> {
    return {
      rules: (chain) => this.byChain.get(`${table} ${chain}`),
      apply: (rule, chain, state) =>
        applyRule(rule, chain, state, {
          node: this.node,
          warn: (m) => this.warnings.push(m),
          isChain: (name) => this.byChain.has(`${table} ${name}`),
          endpointsLeft: this.endpointsLeft.get(rule) ?? null,
        }),
      warn: (m) => this.warnings.push(m),
    };
  }
}

const PER_SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|SEP)-/;

interface RuleContext {
  node: NodeFacts;
  warn: (message: string) => void;
  /** A chain of this name exists in the rule's table (else a target is an extension such as LOG). */
  isChain: (name: string) => boolean;
  /** For a statistic rule, the endpoints its place leaves in a kube-proxy chain. */
  endpointsLeft: number | null;
}

/** Options that say nothing about which packets match (module arguments, target arguments, comments). */
const INERT = new Set([
  '--comment', '--mode', '--name', '--mask', '--rsource', '--reap', '--seconds', '--set',
  '--to-destination', '--to-source', '--to-ports', '--or-mark', '--xor-mark', '--and-mark', '--set-xmark', '--set-mark',
  '--random-fully', '--random', '--persistent', '--reject-with', '--probability', '-j', '-g',
  // An nfacct match counts the packet and always matches.
  '--nfacct-name',
]);

function applyRule(rule: IptablesRule, chain: string, state: State, context: RuleContext): Branch[] {
  const { node, warn, isChain } = context;
  let matches = true;
  let affinity = state.affinitySeconds;
  for (const [name, option] of rule.options) {
    if (INERT.has(name)) continue;
    const verdict = condition(name, option.value, state, node);
    if (verdict === 'recent') {
      // A ClientIP-affinity check: a new client has no entry yet, so it does not match.
      affinity = Number(rule.options.get('--seconds')?.value ?? 0) || affinity;
      matches = false;
      continue;
    }
    if (verdict === null) {
      warn(`${rule.table} ${chain}: cannot evaluate ${name} ${option.value} (treated as not matching): ${rule.text}`);
      matches = false;
      continue;
    }
    if (verdict === option.negated) matches = false;
  }
  const unmatched: Branch = { share: ONE, state: { ...state, affinitySeconds: affinity }, action: null };
  if (!matches) return [unmatched];
  const probability = probabilityOf(rule, chain, context);
  const note = compare(probability, ONE) < 0 ? `matches with probability ${rule.options.get('--probability')!.value}, read as ${formatFraction(probability)}` : undefined;
  // Rules without a comment in a service's own chains (KUBE-EXT-X -j KUBE-SVL-X) belong to the service the packet is in.
  const service = commentService(comment(rule)) ?? (PER_SERVICE_CHAIN.test(chain) ? state.service : null);
  const hit = withStep({ ...state, affinitySeconds: affinity }, { table: rule.table, chain, rule: rule.text, service, note });
  const taken = target(rule, chain, hit, isChain, warn);
  if (compare(probability, ONE) >= 0) return [taken];
  return [{ ...taken, share: probability }, { ...unmatched, share: subtract(ONE, probability) }];
}

/** The rule's exact chance of matching: 1 without a statistic match. */
function probabilityOf(rule: IptablesRule, chain: string, context: RuleContext): Fraction {
  const text = rule.options.get('--probability')?.value;
  if (text === undefined) return ONE;
  const share = statisticShare(text, context.endpointsLeft);
  if (share) return share;
  context.warn(`${rule.table} ${chain}: cannot read --probability ${text} (treated as always matching): ${rule.text}`);
  return ONE;
}

function comment(rule: IptablesRule): string {
  return rule.options.get('--comment')?.value ?? '';
}

/** Whether one match option holds for the packet: true/false, 'recent' for an affinity check, null when unknown. */
function condition(name: string, value: string, state: State, node: NodeFacts): boolean | 'recent' | null {
  const { packet } = state;
  switch (name) {
    case '-s':
      return inCIDR(packet.src, value);
    case '-d':
      return inCIDR(packet.dst, value);
    case '-p':
      return protocolIs(packet, value);
    case '--dport':
      return portIn(packet.dport, value);
    case '--dst-type':
      return addressType(packet.dst, value, node);
    case '--src-type':
      return addressType(packet.src, value, node);
    case '--ctstate':
      return ctstate(value, state);
    case '--mark':
      return markIs(state.mark, value);
    case '--rcheck':
    case '--update':
      return 'recent';
    default:
      return null;
  }
}

function target(rule: IptablesRule, chain: string, state: State, isChain: (name: string) => boolean, warn: (m: string) => void): Branch {
  const gotoChain = rule.options.get('-g')?.value;
  if (gotoChain) return { share: ONE, state, action: { kind: 'goto', chain: gotoChain } };
  const jump = rule.options.get('-j')?.value;
  const act = (action: Action, next: State = state): Branch => ({ share: ONE, state: next, action });
  switch (jump) {
    case undefined:
    case '':
      return act({ kind: 'continue' });
    case 'ACCEPT':
      return act({ kind: 'accept' });
    case 'RETURN':
      return act({ kind: 'return' });
    case 'DROP':
    case 'REJECT':
      return act({ kind: jump === 'DROP' ? 'drop' : 'reject' }, { ...state, reason: refusalReason(chain, comment(rule), jump === 'DROP' ? 'drop' : 'reject') });
    case 'DNAT':
      return act({ kind: 'accept' }, translated(state, rule.options.get('--to-destination')?.value ?? ''));
    case 'MASQUERADE':
    case 'SNAT':
      return act({ kind: 'accept' }, { ...state, masquerade: true });
    case 'MARK':
      return act({ kind: 'continue' }, { ...state, mark: markAfter(state.mark, rule) });
    default:
      if (isChain(jump)) return act({ kind: 'jump', chain: jump });
      // LOG, CONNMARK, NOTRACK and the like do not decide where the packet goes.
      warn(`${rule.table} ${chain}: target ${jump} is not modelled; the packet goes on: ${rule.text}`);
      return act({ kind: 'continue' });
  }
}

function markAfter(mark: number, rule: IptablesRule): number {
  const or = rule.options.get('--or-mark')?.value;
  const xor = rule.options.get('--xor-mark')?.value;
  const and = rule.options.get('--and-mark')?.value;
  const set = rule.options.get('--set-xmark')?.value ?? rule.options.get('--set-mark')?.value;
  if (or) return (mark | Number(or)) >>> 0;
  if (xor) return (mark ^ Number(xor)) >>> 0;
  if (and) return (mark & Number(and)) >>> 0;
  if (set) {
    const [value, mask = '0xffffffff'] = set.split('/');
    return ((mark & ~Number(mask)) ^ Number(value)) >>> 0;
  }
  return mark;
}

function inCIDR(ip: string, text: string): boolean | null {
  const cidr = parseCIDR(text);
  return cidr ? cidrContains(cidr, ip) : null;
}

const PROTOCOL_NUMBERS: Record<string, string> = { '6': 'tcp', '17': 'udp', '132': 'sctp' };

function protocolIs(packet: Packet, value: string): boolean {
  const name = PROTOCOL_NUMBERS[value] ?? value.toLowerCase();
  return name === 'all' || name === packet.protocol;
}

function portIn(port: number, value: string): boolean | null {
  const [low, high = low] = value.split(':').map(Number);
  if (!Number.isInteger(low) || !Number.isInteger(high)) return null;
  return port >= low! && port <= high!;
}

function addressType(ip: string, value: string, node: NodeFacts): boolean | null {
  if (value !== 'LOCAL') return null;
  return isLocal(ip, node);
}

/** A new connection's first packet: NEW, and DNAT once nat has translated its destination. */
function ctstate(value: string, state: State): boolean {
  const states = value.split(',');
  return states.includes('NEW') || (states.includes('DNAT') && state.dnat !== null);
}

function markIs(mark: number, value: string): boolean {
  const [want, mask = '0xffffffff'] = value.split('/');
  return ((mark & Number(mask)) >>> 0) === (Number(want) >>> 0);
}
