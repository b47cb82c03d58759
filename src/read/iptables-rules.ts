import { splitArgs } from './tokens.js';

/**
 * iptables-save text as data: tables, chain policies and rules with their
 * options. The differ (read/iptables.ts) and the packet tracer
 * (explain/iptables.ts) read the same parse, so both see one meaning.
 */

/** One `-A` line: its table and chain, and the rule as written, without counters. */
export interface IptablesLine {
  table: string;
  chain: string;
  text: string;
}

export type IptablesOptions = Map<string, { value: string; negated: boolean }>;

/** One rule's options, with negation kept: `! -s X` is { s: { value: X, negated: true } }. */
export interface IptablesRule extends IptablesLine {
  options: IptablesOptions;
}

/** A text's `-A` lines, options not yet read, with its chain declarations. */
export interface IptablesLines {
  rules: IptablesLine[];
  /** Every declared chain as `table chain`. */
  declared: string[];
  /** Built-in chain policies as `table chain` → ACCEPT or DROP. */
  policies: Map<string, string>;
}

export interface IptablesText extends IptablesLines {
  rules: IptablesRule[];
}

const VALUELESS = new Set(['--rcheck', '--set', '--reap', '--rsource', '--random-fully', '--physdev-is-in', '--update', '--remove']);
// A Map, not an object: looking a token up as an object key makes V8 look for it in its string table (a runtime call per token).
const ALIASES = new Map([
  ['--source', '-s'],
  ['--destination', '-d'],
  ['--protocol', '-p'],
  ['--jump', '-j'],
  ['--goto', '-g'],
  ['--match', '-m'],
]);

export function parseIptablesRule(table: string, line: string): IptablesRule | null {
  const args = splitArgs(line);
  if (args[0] !== '-A' || args.length < 2) return null;
  return { table, chain: args[1]!, text: line, options: optionsOf(args) };
}

/** The options of an `-A` line (one iptables-save wrote, or one readIptablesLines returned). */
export function readIptablesOptions(line: string): IptablesOptions {
  return optionsOf(splitArgs(line));
}

function optionsOf(args: string[]): IptablesOptions {
  const options: IptablesOptions = new Map();
  let negated = false;
  for (let i = 2; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '!') {
      negated = true;
      continue;
    }
    const name = ALIASES.get(arg) ?? arg;
    if (name === '-m') {
      i++;
      continue;
    }
    let value = '';
    if (!VALUELESS.has(name) && i + 1 < args.length && !(args[i + 1]!.startsWith('-') && args[i + 1] !== '-')) value = args[++i]!;
    if (name.startsWith('-')) options.set(name, { value, negated });
    negated = false;
  }
  return options;
}

/** Reads iptables-save or iptables-restore text (one family). */
export function parseIptablesText(text: string): IptablesText {
  const lines = readIptablesLines(text);
  return { ...lines, rules: lines.rules.map((rule) => ({ ...rule, options: readIptablesOptions(rule.text) })) };
}

/**
 * Reads iptables-save or iptables-restore text (one family) without reading
 * rules' options: a 10,000-service rule set has 400,000 rules, and their
 * options all held at once cost more than reading them where they are used.
 */
export function readIptablesLines(text: string): IptablesLines {
  const rules: IptablesLine[] = [];
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
      const rule = line.startsWith('[') ? line.replace(/^\[\d+:\d+\]\s*/, '') : line;
      const chain = chainOf(rule);
      if (chain !== null) rules.push({ table, chain, text: rule });
    }
  }
  return { rules, declared, policies };
}

/** `-A CHAIN ...` written plainly, as iptables-save does; anything else is left to the full split. */
const PLAIN_HEAD = /^-A[ \t]+([^ \t"]+)(?:[ \t]|$)/;

/** The chain an `-A` line appends to, or null when the line is not one. */
function chainOf(line: string): string | null {
  const plain = PLAIN_HEAD.exec(line);
  if (plain) return plain[1]!;
  const args = splitArgs(line);
  return args[0] === '-A' && args.length >= 2 ? args[1]! : null;
}
