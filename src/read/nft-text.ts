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

export function parseNftText(text: string): NftTableText[] {
  const tables = new Map<string, NftTableText>();
  const table = (family: string, name: string) => {
    const key = `${family} ${name}`;
    let t = tables.get(key);
    if (!t) tables.set(key, (t = { family, name, chains: new Map(), chainSpecs: new Map(), containers: new Map() }));
    return t;
  };
  const statements = joinBraces(stripComments(text));
  for (const statement of statements) {
    const flat = /^(add|create|insert)\s+(rule|chain|set|map|element|table)\s+(\w+)\s+(\S+)\s*(.*)$/s.exec(statement);
    if (flat) {
      readFlat(table(flat[3]!, flat[4]!), flat[2]!, flat[5]!);
      continue;
    }
    const nested = /^table\s+(\w+)\s+(\S+)\s*\{(.*)\}$/s.exec(statement);
    if (nested) readNested(table(nested[1]!, nested[2]!), nested[3]!);
  }
  return [...tables.values()];
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

function chainOf(table: NftTableText, name: string): string[] {
  let rules = table.chains.get(name);
  if (!rules) table.chains.set(name, (rules = []));
  return rules;
}

function containerOf(table: NftTableText, name: string): { spec: string; elements: string[] } {
  let container = table.containers.get(name);
  if (!container) table.containers.set(name, (container = { spec: '', elements: [] }));
  return container;
}

function readFlat(table: NftTableText, kind: string, rest: string): void {
  const [name, ...tail] = rest.split(/\s+/);
  const body = tail.join(' ');
  switch (kind) {
    case 'rule':
      chainOf(table, name!).push(normalizeRule(body));
      break;
    case 'chain':
      chainOf(table, name!);
      if (/\bhook\b/.test(body)) table.chainSpecs.set(name!, inside(body));
      break;
    case 'set':
    case 'map':
      containerOf(table, name!).spec = inside(body);
      break;
    case 'element':
      containerOf(table, name!).elements.push(...splitElements(inside(body)));
      break;
  }
}

/** Reads the body of a nested `table ... { ... }` listing. */
function readNested(table: NftTableText, body: string): void {
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
      const rules = chainOf(table, open[2]!);
      const spec = block.filter((line) => /^(type|policy)\b/.test(line));
      if (spec.length) table.chainSpecs.set(open[2]!, spec.join(' ; '));
      for (const rule of block) if (rule && !/^(type|comment|policy)\b/.test(rule)) rules.push(normalizeRule(rule));
    } else readNestedContainer(containerOf(table, open[2]!), block.join('\n'));
  }
}

function readNestedContainer(container: { spec: string; elements: string[] }, block: string): void {
  const elements = /elements\s*=\s*\{(.*)\}/s.exec(block);
  container.spec = block.replace(/elements\s*=\s*\{.*\}/s, '').replace(/\n/g, ' ; ');
  if (elements) container.elements.push(...splitElements(elements[1]!));
}

function inside(text: string): string {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  return start < 0 || end < start ? '' : text.slice(start + 1, end);
}

/** Splits `a, b : c, d` at top-level commas. */
export function splitElements(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    if (!quoted && c === '{') depth++;
    if (!quoted && c === '}') depth--;
    if (c === ',' && depth === 0 && !quoted) {
      if (current.trim()) out.push(current.trim().replace(/\s+/g, ' '));
      current = '';
    } else current += c;
  }
  if (current.trim()) out.push(current.trim().replace(/\s+/g, ' '));
  return out;
}

/** Rule text without counters or a trailing comment, with single spaces. */
function normalizeRule(rule: string): string {
  return rule
    .replace(/\s+comment\s+"[^"]*"\s*$/, '')
    .replace(/\bcounter packets \d+ bytes \d+\s*/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
