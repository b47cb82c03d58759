import { splitArgs } from './tokens.js';

/**
 * iptables-save text as data: tables, chain policies and rules with their
 * options. The differ (read/iptables.ts) and the packet tracer
 * (explain/iptables.ts) read the same parse, so both see one meaning.
 */

/** One rule's options, with negation kept: `! -s X` is { s: { value: X, negated: true } }. */
export interface IptablesRule {
  table: string;
  chain: string;
  /** The rule as written, without counters. */
  text: string;
  options: Map<string, { value: string; negated: boolean }>;
}

export interface IptablesText {
  rules: IptablesRule[];
  /** Every declared chain as `table chain`. */
  declared: string[];
  /** Built-in chain policies as `table chain` → ACCEPT or DROP. */
  policies: Map<string, string>;
}

const VALUELESS = new Set(['--rcheck', '--set', '--reap', '--rsource', '--random-fully', '--physdev-is-in', '--update', '--remove']);
const ALIASES: Record<string, string> = { '--source': '-s', '--destination': '-d', '--protocol': '-p', '--jump': '-j', '--goto': '-g', '--match': '-m' };

export function parseIptablesRule(table: string, line: string): IptablesRule | null {
  const args = splitArgs(line);
  if (args[0] !== '-A' || args.length < 2) return null;
  const options = new Map<string, { value: string; negated: boolean }>();
  let negated = false;
  for (let i = 2; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '!') {
      negated = true;
      continue;
    }
    const name = ALIASES[arg] ?? arg;
    if (name === '-m') {
      i++;
      continue;
    }
    let value = '';
    if (!VALUELESS.has(name) && i + 1 < args.length && !(args[i + 1]!.startsWith('-') && args[i + 1] !== '-')) value = args[++i]!;
    if (name.startsWith('-')) options.set(name, { value, negated });
    negated = false;
  }
  return { table, chain: args[1]!, text: line, options };
}

/** Reads iptables-save or iptables-restore text (one family). */
export function parseIptablesText(text: string): IptablesText {
  const rules: IptablesRule[] = [];
  const declared: string[] = [];
  const policies = new Map<string, string>();
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith(':')) {
      const [chain, policy] = line.slice(1).split(' ');
      declared.push(`${table} ${chain}`);
      if (policy && policy !== '-') policies.set(`${table} ${chain}`, policy);
    } else if (line.startsWith('-A') || line.startsWith('[')) {
      // iptables-save -c puts counters first: [12:345] -A ...
      const rule = parseIptablesRule(table, line.startsWith('[') ? line.replace(/^\[\d+:\d+\]\s*/, '') : line);
      if (rule) rules.push(rule);
    }
  }
  return { rules, declared, policies };
}
