/**
 * The objects of nft text, in either form nft reads or prints: the flat
 * commands kpc and knftables write (`add rule ip kube-proxy CHAIN ...`) and
 * the nested listing `nft list` prints (`table ip kube-proxy { chain X { ... } }`).
 */
export interface NftTableText {
  family: string;
  name: string;
  chains: Map<string, string[]>;
  /** Base chains' declarations (`type filter hook input priority -110 ; ...`), by chain name. */
  chainSpecs: Map<string, string>;
  /** Sets and maps: their declaration text and their elements. */
  containers: Map<string, { spec: string; elements: string[] }>;
}

/** nft's names for standard priorities (ip, ip6 and inet families). */
const PRIORITY_NAMES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };

/** A base chain's priority from its declaration: `priority -110`, `priority dstnat`, `priority dstnat - 10` (how `nft list` prints it). */
export function basePriority(spec: string): number {
  const match = /\bpriority\s+(-?\d+|[a-z]+)(?:\s*([+-])\s*(\d+))?/.exec(spec);
  if (!match) return 0;
  const base = /^-?\d+$/.test(match[1]!) ? Number(match[1]) : (PRIORITY_NAMES[match[1]!] ?? 0);
  const offset = match[3] ? Number(match[3]) * (match[2] === '-' ? -1 : 1) : 0;
  return base + offset;
}

const FLAT_HEAD = /^(add|create|insert)\s+(rule|chain|set|map|element|table)\s+(\w+)\s+(\S+)\s*/;

export function parseNftText(text: string): NftTableText[] {
  const tables = new Tables();
  for (const statement of joinBraces(stripComments(text))) {
    // Only the head is matched: the rest of a statement (a map's 10,000 elements, say) is sliced off, never scanned.
    const flat = FLAT_HEAD.exec(statement);
    if (flat) {
      readFlat(tables.table(flat[3]!, flat[4]!), flat[2]!, statement.slice(flat[0].length));
      continue;
    }
    const nested = /^table\s+(\w+)\s+(\S+)\s*\{(.*)\}$/s.exec(statement);
    if (nested) readNested(tables.table(nested[1]!, nested[2]!), nested[3]!);
  }
  return tables.all();
}

/**
 * The tables being read, by family and name. Statements come in long runs for
 * one table and rules in runs for one chain, so the last one asked for is
 * checked first: hashing a new name string for each of 200,000 rules costs
 * more than reading the rule.
 */
class Tables {
  private readonly byKey = new Map<string, TableBuilder>();
  private last: TableBuilder | null = null;

  table(family: string, name: string): TableBuilder {
    if (this.last && this.last.text.family === family && this.last.text.name === name) return this.last;
    const key = `${family} ${name}`;
    let table = this.byKey.get(key);
    if (!table) this.byKey.set(key, (table = new TableBuilder(family, name)));
    return (this.last = table);
  }

  all(): NftTableText[] {
    return [...this.byKey.values()].map((table) => table.text);
  }
}

class TableBuilder {
  readonly text: NftTableText;
  private lastChain: { name: string; rules: string[] } | null = null;

  constructor(family: string, name: string) {
    this.text = { family, name, chains: new Map(), chainSpecs: new Map(), containers: new Map() };
  }

  chain(name: string): string[] {
    if (this.lastChain?.name === name) return this.lastChain.rules;
    let rules = this.text.chains.get(name);
    if (!rules) this.text.chains.set(name, (rules = []));
    this.lastChain = { name, rules };
    return rules;
  }

  container(name: string): { spec: string; elements: string[] } {
    let container = this.text.containers.get(name);
    if (!container) this.text.containers.set(name, (container = { spec: '', elements: [] }));
    return container;
  }
}

function stripComments(text: string): string[] {
  return text.split('\n').map((line) => (line.trimStart().startsWith('#') ? '' : line));
}

/** Joins lines into statements: a statement ends where its braces balance. */
function joinBraces(lines: string[]): string[] {
  const statements: string[] = [];
  let current = '';
  let depth = 0;
  for (const line of lines) {
    if (!current && !line.trim()) continue;
    current += (current ? '\n' : '') + line;
    // Most lines of a flat file hold no brace: skip counting them.
    if (line.includes('{') || line.includes('}')) depth += count(line, '{') - count(line, '}');
    if (depth <= 0) {
      statements.push(current.trim());
      current = '';
      depth = 0;
    }
  }
  if (current.trim()) statements.push(current.trim());
  return statements;
}

function count(text: string, char: string): number {
  const code = char.charCodeAt(0);
  let n = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (c === code && !quoted) n++;
  }
  return n;
}

function readFlat(table: TableBuilder, kind: string, rest: string): void {
  const { name, body } = splitName(rest);
  switch (kind) {
    case 'rule':
      table.chain(name).push(normalizeRule(singleSpaced(body)));
      break;
    case 'chain': {
      table.chain(name);
      const spec = singleSpaced(body);
      if (/\bhook\b/.test(spec)) table.text.chainSpecs.set(name, inside(spec));
      break;
    }
    case 'set':
    case 'map':
      table.container(name).spec = inside(singleSpaced(body));
      break;
    case 'element':
      // splitElements spaces each element itself: the whole block is not respaced first.
      pushAll(table.container(name).elements, splitElements(inside(body)));
      break;
  }
}

/** `NAME body...` → the name and the body after the white space that follows it. */
function splitName(rest: string): { name: string; body: string } {
  const space = /\s/.exec(rest);
  if (!space) return { name: rest, body: '' };
  return { name: rest.slice(0, space.index), body: rest.slice(space.index).trimStart() };
}

/** push(...items) passes every item as an argument, which fails for a map of some 100,000 elements. */
function pushAll(list: string[], items: string[]): void {
  for (const item of items) list.push(item);
}

/** Reads the body of a nested `table ... { ... }` listing. */
function readNested(table: TableBuilder, body: string): void {
  const lines = body.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!.trim();
    const open = /^(chain|set|map)\s+(\S+)\s*\{$/.exec(line);
    if (!open) {
      i++;
      continue;
    }
    const block: string[] = [];
    let depth = 1;
    i++;
    while (i < lines.length && depth > 0) {
      const inner = lines[i]!;
      depth += count(inner, '{') - count(inner, '}');
      if (depth > 0) block.push(inner.trim());
      i++;
    }
    if (open[1] === 'chain') {
      const rules = table.chain(open[2]!);
      const spec = block.filter((line) => /^(type|policy)\b/.test(line));
      if (spec.length) table.text.chainSpecs.set(open[2]!, spec.join(' ; '));
      for (const rule of block) if (rule && !/^(type|comment|policy)\b/.test(rule)) rules.push(normalizeRule(rule));
    } else readNestedContainer(table.container(open[2]!), block.join('\n'));
  }
}

function readNestedContainer(container: { spec: string; elements: string[] }, block: string): void {
  const elements = /elements\s*=\s*\{(.*)\}/s.exec(block);
  container.spec = block.replace(/elements\s*=\s*\{.*\}/s, '').replace(/\n/g, ' ; ');
  if (elements) pushAll(container.elements, splitElements(elements[1]!));
}

function inside(text: string): string {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  return start < 0 || end < start ? '' : text.slice(start + 1, end);
}

const QUOTE = 34;
const COMMA = 44;
const OPEN = 123;
const CLOSE = 125;

/** Splits `a, b : c, d` at top-level commas; each element trimmed, with single spaces. */
export function splitElements(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) quoted = !quoted;
    else if (quoted) continue;
    else if (c === OPEN) depth++;
    else if (c === CLOSE) depth--;
    else if (c === COMMA && depth === 0) {
      pushElement(out, text.slice(start, i));
      start = i + 1;
    }
  }
  pushElement(out, text.slice(start));
  return out;
}

function pushElement(out: string[], text: string): void {
  const element = singleSpaced(text.trim());
  if (element) out.push(element);
}

/** Printable ASCII with lone spaces: what `\s+` → ' ' would leave unchanged (nearly every line kpc or nft writes). */
const IRREGULAR_SPACE = /[^\x21-\x7e ]| {2}/;

/** Every run of white space as one space; text that has only lone spaces is returned as it is, without a copy. */
function singleSpaced(text: string): string {
  return IRREGULAR_SPACE.test(text) ? text.replace(/\s+/g, ' ') : text;
}

/** Rule text without counters or a trailing comment, with single spaces. */
function normalizeRule(rule: string): string {
  let text = rule;
  if (text.includes('comment')) text = text.replace(/\s+comment\s+"[^"]*"\s*$/, '');
  if (text.includes('counter')) text = text.replace(/\bcounter packets \d+ bytes \d+\s*/g, '');
  return singleSpaced(text).trim();
}
