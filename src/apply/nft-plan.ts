/**
 * The nftables incremental planner: two `nft -f` files kpc generated (the one
 * the host holds, the one wanted) in, one transaction of their differences
 * out. Pure (no kernel, no I/O), so every case is a unit test.
 *
 * It works on any table kpc writes, whatever the layout, as objects:
 * tables, chains (with their rules, in order), sets and maps (with their
 * elements). Elements are added and deleted one by one; a chain whose rules
 * changed is flushed and rewritten; chains, sets and maps that appear or
 * disappear are added or deleted. A change it cannot express safely (a
 * table's, chain's or set's declaration changed: a hook, a type, flags) is
 * reported as `full`, and the caller does a full load as before.
 */

import type { NftFamily } from './nftables.js';

export interface NftSet {
  kind: 'set' | 'map';
  /** The declaration after the name (` { type ... ; }`), '' when none. */
  decl: string;
  /** Elements as written, one per entry, in first-seen order. */
  elements: string[];
}

export interface NftChain {
  decl: string;
  /** Rule texts after `add rule FAMILY TABLE CHAIN `. */
  rules: string[];
}

export interface NftTable {
  family: NftFamily;
  name: string;
  decl: string;
  chains: Map<string, NftChain>;
  sets: Map<string, NftSet>;
}

/** Tables by `family name`. */
export type NftObjects = Map<string, NftTable>;

/** One `add ...` / `delete ...` command with its continuation lines joined. */
function statements(text: string): string[] {
  const out: string[] = [];
  let current: string | null = null;
  let depth = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current !== null) {
      current += ` ${line}`;
      depth += braces(line);
      if (depth <= 0) {
        out.push(current);
        current = null;
      }
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    depth = braces(line);
    if (depth > 0) current = line;
    else out.push(line);
  }
  if (current !== null) throw new Error('the nftables file ends inside a { } block');
  return out;
}

function braces(line: string): number {
  if (!line.includes('{') && !line.includes('}')) return 0;
  const bare = line.replace(/"[^"]*"/g, '""');
  return (bare.match(/\{/g)?.length ?? 0) - (bare.match(/\}/g)?.length ?? 0);
}

const STATEMENT = /^(add|delete|flush) (table|chain|set|map|rule|element) (ip6?|inet) (\S+)(?: (\S+))?(.*)$/;

/** Tables by key as parsing fills them in. */
class Tables {
  readonly map: NftObjects = new Map();
  private last: NftTable | null = null;

  get(family: string, name: string): NftTable {
    if (this.last && this.last.family === family && this.last.name === name) return this.last;
    const key = `${family} ${name}`;
    let table = this.map.get(key);
    if (!table) this.map.set(key, (table = { family: family as NftFamily, name, decl: '', chains: new Map(), sets: new Map() }));
    this.last = table;
    return table;
  }

  delete(family: string, name: string): void {
    this.map.delete(`${family} ${name}`);
    this.last = null;
  }
}

/** One joined statement into `tables` (the general path: any statement the planner knows). */
function addStatement(tables: Tables, statement: string): void {
  const match = STATEMENT.exec(statement);
  if (!match) throw new Error(`not a statement the planner knows: ${statement.slice(0, 80)}`);
  const [, verb, kind, family, tableName, objectName, rawRest] = match;
  const rest = rawRest ?? '';
  if (kind === 'table') {
    const decl = `${objectName ? ` ${objectName}` : ''}${rest}`;
    if (verb === 'delete') tables.delete(family!, tableName!);
    else if (verb === 'add') {
      const table = tables.get(family!, tableName!);
      if (decl) table.decl = decl;
    } else throw new Error(`${verb} table is not something the planner knows`);
    return;
  }
  const table = tables.get(family!, tableName!);
  const name = objectName!;
  if (verb !== 'add') throw new Error(`${verb} ${kind} is not something the planner knows`);
  switch (kind) {
    case 'chain': {
      const chain = table.chains.get(name);
      if (!chain) table.chains.set(name, { decl: rest, rules: [] });
      else if (rest && rest !== chain.decl) chain.decl = rest;
      break;
    }
    case 'set':
    case 'map': {
      const set = table.sets.get(name);
      if (!set) table.sets.set(name, { kind, decl: rest, elements: [] });
      else if (rest) set.decl = rest;
      break;
    }
    case 'rule':
      addRule(table, name, rest.replace(/^ /, ''));
      break;
    case 'element': {
      const body = /^\s*\{(.*)\}\s*$/.exec(rest);
      if (!body) throw new Error(`elements for ${name} are not one { ... } list`);
      addElements(table, name, splitElements(body[1]!));
      break;
    }
  }
}

function addRule(table: NftTable, chainName: string, rule: string): void {
  const chain = table.chains.get(chainName);
  if (!chain) throw new Error(`a rule for chain ${chainName} before the chain is declared`);
  chain.rules.push(rule);
}

function addElements(table: NftTable, setName: string, elements: string[]): void {
  const set = table.sets.get(setName);
  if (!set) throw new Error(`elements for ${setName} before the set is declared`);
  for (const element of elements) set.elements.push(element);
}

/** Reads a kpc-generated nftables file into objects the general way, statement by statement (what parseNft must equal; tests compare them). */
export function parseNftStatements(text: string): NftObjects {
  const tables = new Tables();
  for (const statement of statements(text)) addStatement(tables, statement);
  return tables.map;
}

/**
 * `add rule|chain FAMILY TABLE NAME REST` split at single spaces (`from`:
 * where FAMILY starts), or null when it is not that plain (the general path
 * then reads it).
 */
function plainStatement(line: string, from: number): [family: string, table: string, name: string, rest: string] | null {
  const a = line.indexOf(' ', from);
  if (a < 0) return null;
  const b = line.indexOf(' ', a + 1);
  if (b < 0) return null;
  const c = line.indexOf(' ', b + 1);
  const family = line.slice(from, a);
  if (family !== 'ip' && family !== 'ip6' && family !== 'inet') return null;
  const table = line.slice(a + 1, b);
  const name = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  if (!table || !name || SPACE.test(table) || SPACE.test(name)) return null;
  return [family, table, name, c < 0 ? '' : line.slice(c + 1)];
}

const SPACE = /\s/;

/** An element line as kpc writes one (`\t10.0.0.1 . tcp . 80 : goto x,`): no brackets. */
const PLAIN_ELEMENT = /^[^{}[\]()]*$/;

/**
 * Reads a kpc-generated nftables file into objects; throws on anything it
 * does not know (the caller then loads in full). Equal to
 * parseNftStatements, in one pass over the text without joining
 * statements: rule lines and element blocks (one element a line) are read
 * directly, anything else the general way. At 10,000 service ports the
 * files have a million lines: reading them is most of the incremental
 * path's planning time.
 */
export function parseNft(text: string): NftObjects {
  const tables = new Tables();
  let lastChain: NftChain | undefined;
  let lastChainName = '';
  let lastTable: NftTable | null = null;
  const length = text.length;
  let pos = 0;
  const nextLine = (): string => {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = length;
    let from = pos;
    let to = end;
    pos = end + 1;
    // trim() for the spaces kpc writes, without a new string per line; any other whitespace at an end, trim() itself.
    while (from < to && isBlank(text.charCodeAt(from))) from++;
    while (to > from && isBlank(text.charCodeAt(to - 1))) to--;
    const line = text.slice(from, to);
    return from < to && (isOddBlank(text.charCodeAt(from)) || isOddBlank(text.charCodeAt(to - 1))) ? line.trim() : line;
  };
  while (pos < length) {
    const start = pos;
    const line = nextLine();
    if (line === '' || line.charCodeAt(0) === 35) continue;
    const rule = line.startsWith('add rule ') && braces(line) === 0 ? plainStatement(line, 9) : null;
    if (rule) {
      const table = tables.get(rule[0], rule[1]);
      // Rules of one chain mostly come together: the last chain saves a lookup by a long name.
      if (table !== lastTable || rule[2] !== lastChainName) {
        lastChain = table.chains.get(rule[2]);
        if (!lastChain) throw new Error(`a rule for chain ${rule[2]} before the chain is declared`);
        lastTable = table;
        lastChainName = rule[2];
      }
      lastChain!.rules.push(rule[3]);
      continue;
    }
    const chain = line.startsWith('add chain ') && !line.includes('{') && !line.includes('}') ? plainStatement(line, 10) : null;
    if (chain && chain[3] === '') {
      const table = tables.get(chain[0], chain[1]);
      if (!table.chains.has(chain[2])) table.chains.set(chain[2], { decl: '', rules: [] });
      continue;
    }
    if (line.startsWith('add element ') && line.endsWith(' {') && line.indexOf('{') === line.length - 1 && !line.includes('"')) {
      const head = STATEMENT.exec(line.slice(0, -2));
      const elements = head && head[6] === '' ? elementBlock(nextLine, () => pos < length) : null;
      if (head && elements) {
        addElements(tables.get(head[3]!, head[4]!), head[5]!, elements);
        continue;
      }
    }
    // Anything else: this statement (with its continuation lines) the general way.
    pos = start;
    let statement = nextLine();
    let depth = braces(statement);
    while (depth > 0) {
      if (pos >= length) throw new Error('the nftables file ends inside a { } block');
      const more = nextLine();
      statement += ` ${more}`;
      depth += braces(more);
    }
    addStatement(tables, statement);
  }
  return tables.map;
}

const isBlank = (c: number) => c === 32 || c === 9 || c === 13;
/** Whitespace trim() removes besides space, tab and CR (and newline, which ends lines). */
const isOddBlank = (c: number) => c === 11 || c === 12 || c === 160 || c === 0xfeff || (c >= 0x1680 && /\s/.test(String.fromCharCode(c)));

/** The elements of a block whose lines hold whole elements, up to its `}` line; null when a line is not that plain. */
function elementBlock(nextLine: () => string, more: () => boolean): string[] | null {
  const out: string[] = [];
  while (more()) {
    const line = nextLine();
    if (line === '}') return out;
    if (line.startsWith('#') || !PLAIN_ELEMENT.test(line) || (line.split('"').length - 1) % 2 !== 0) return null;
    if (line.includes('"') || line.indexOf(',') !== line.length - 1) {
      for (const entry of splitElements(line)) out.push(entry);
      continue;
    }
    const entry = line.slice(0, -1).trim();
    if (entry) out.push(/\s\s|[^\S ]/.test(entry) ? entry.replace(/\s+/g, ' ') : entry);
  }
  return null;
}

/** A `{ a, b : goto c, d }` list's entries (commas inside quotes or braces do not split). */
function splitElements(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i <= body.length; i++) {
    const c = body[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '{' || c === '[' || c === '(')) depth++;
    else if (!quoted && (c === '}' || c === ']' || c === ')')) depth--;
    if (i === body.length || (c === ',' && depth === 0 && !quoted)) {
      const entry = body.slice(start, i).trim().replace(/\s+/g, ' ');
      if (entry) out.push(entry);
      start = i + 1;
    }
  }
  return out;
}

export type NftPlan =
  /** Nothing differs. */
  | { kind: 'same' }
  /** One transaction with the differences, and how many objects it touches. */
  | { kind: 'incremental'; transaction: string; changes: number }
  /** Something the planner does not change in place; why. */
  | { kind: 'full'; reason: string };

/**
 * The transaction that turns `live` into `wanted`. The order keeps every
 * reference valid at each step (nft checks them at commit, but a delete of a
 * chain or set still referenced fails): new chains, sets and maps first;
 * then stale elements out (they may jump to chains about to go); changed
 * and stale chains flushed; new rules in; new elements in; stale sets,
 * maps and chains deleted last, when nothing refers to them any more.
 * `extra` (the generation marker's update) ends the same transaction.
 */
export function planNft(live: NftObjects, wanted: NftObjects, extra = ''): NftPlan {
  const liveKeys = [...live.keys()].sort();
  const wantedKeys = [...wanted.keys()].sort();
  if (liveKeys.join('|') !== wantedKeys.join('|')) return { kind: 'full', reason: `the tables differ (${liveKeys.join(', ')} -> ${wantedKeys.join(', ')})` };
  const phases = { create: [] as string[], unelement: [] as string[], flush: [] as string[], rules: [] as string[], element: [] as string[], drop: [] as string[], dropChains: [] as string[] };
  let changes = 0;
  for (const key of wantedKeys) {
    const before = live.get(key)!;
    const after = wanted.get(key)!;
    if (before.decl !== after.decl) return { kind: 'full', reason: `table ${key}'s declaration changed` };
    const at = `${key}`;
    for (const [name, set] of after.sets) {
      const old = before.sets.get(name);
      if (old && (old.kind !== set.kind || old.decl !== set.decl)) return { kind: 'full', reason: `${set.kind} ${name}'s declaration changed` };
      if (!old) {
        changes++;
        phases.create.push(`add ${set.kind} ${at} ${name}${set.decl}`);
      }
      // Most sets are the same, in the same order: no need to index their elements.
      if (old && sameRules(old.elements, set.elements)) continue;
      const { gone, added } = elementChanges(old?.elements ?? [], set.elements);
      if (gone.length) phases.unelement.push(elementCommand('delete', at, name, gone.map(elementKey)));
      if (added.length) phases.element.push(elementCommand('add', at, name, added));
      changes += gone.length + added.length;
    }
    for (const [name, set] of before.sets) {
      if (after.sets.has(name)) continue;
      changes++;
      phases.drop.push(`delete ${set.kind} ${at} ${name}`);
    }
    for (const [name, chain] of after.chains) {
      const old = before.chains.get(name);
      if (old && old.decl !== chain.decl) return { kind: 'full', reason: `chain ${name}'s declaration changed` };
      if (!old) phases.create.push(`add chain ${at} ${name}${chain.decl}`);
      else if (sameRules(old.rules, chain.rules)) continue;
      else phases.flush.push(`flush chain ${at} ${name}`);
      changes++;
      for (const rule of chain.rules) phases.rules.push(`add rule ${at} ${name} ${rule}`);
    }
    for (const name of before.chains.keys()) {
      if (after.chains.has(name)) continue;
      changes++;
      phases.flush.push(`flush chain ${at} ${name}`);
      phases.dropChains.push(`delete chain ${at} ${name}`);
    }
  }
  if (changes === 0) return { kind: 'same' };
  const lines = [...phases.create, ...phases.unelement, ...phases.flush, ...phases.rules, ...phases.element, ...phases.drop, ...phases.dropChains];
  return { kind: 'incremental', transaction: lines.join('\n') + '\n' + extra, changes };
}

/**
 * Elements only in `before` and only in `after`. Both come in the emitter's
 * order, so a change of one endpoint leaves long runs equal at both ends:
 * only the middle is indexed (a map of 100,000 elements: ~1 ms instead of
 * ~70). Exact because a set holds an element once.
 */
export function elementChanges(before: string[], after: string[]): { gone: string[]; added: string[] } {
  let start = 0;
  const shorter = Math.min(before.length, after.length);
  while (start < shorter && before[start] === after[start]) start++;
  let endBefore = before.length;
  let endAfter = after.length;
  while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
    endBefore--;
    endAfter--;
  }
  const had = new Set(before.slice(start, endBefore));
  const has = new Set(after.slice(start, endAfter));
  return { gone: [...had].filter((e) => !has.has(e)), added: [...has].filter((e) => !had.has(e)) };
}

function sameRules(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((rule, i) => rule === b[i]);
}

/** A map element's key (what `delete element` names): the part before ` : `, outside quotes and braces. */
export function elementKey(element: string): string {
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < element.length; i++) {
    const c = element[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '{') depth++;
    else if (!quoted && c === '}') depth--;
    else if (!quoted && depth === 0 && element.startsWith(' : ', i)) return element.slice(0, i);
  }
  return element;
}

function elementCommand(verb: 'add' | 'delete', table: string, name: string, elements: string[]): string {
  return `${verb} element ${table} ${name} {\n${elements.map((e) => `\t${e},`).join('\n')}\n}`;
}
