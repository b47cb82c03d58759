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

import { differingLines, Items, OpenRun } from './items.js';
import type { NftFamily } from './nftables.js';

export interface NftSet {
  kind: 'set' | 'map';
  /** The declaration after the name (` { type ... ; }`), '' when none. */
  decl: string;
  /** Elements as written, one per entry, in first-seen order. */
  elements: Items;
}

export interface NftChain {
  decl: string;
  /** Rule texts after `add rule FAMILY TABLE CHAIN `. */
  rules: Items;
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
      if (!chain) table.chains.set(name, newChain(rest));
      else if (rest && rest !== chain.decl) chain.decl = rest;
      break;
    }
    case 'set':
    case 'map': {
      const set = table.sets.get(name);
      if (!set) table.sets.set(name, { kind, decl: rest, elements: new Items(readElements) });
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
  chain.rules.add(rule);
}

function addElements(table: NftTable, setName: string, elements: string[]): void {
  const set = table.sets.get(setName);
  if (!set) throw new Error(`elements for ${setName} before the set is declared`);
  for (const element of elements) set.elements.add(element);
}

const newChain = (decl: string): NftChain => ({ decl, rules: new Items(readRules) });

/** A run of `add rule FAMILY TABLE CHAIN rule` lines into their rules (what the general path reads from each line). */
function readRules(run: string): string[] {
  return run.split('\n').map((raw) => {
    const line = raw.trim();
    let space = -1;
    for (let i = 0; i < 5 && (space = line.indexOf(' ', space + 1)) >= 0; i++);
    return space < 0 ? '' : line.slice(space + 1);
  });
}

/**
 * The lines of an element block (no braces in it) into its elements: line
 * by line where each holds whole elements, else as the general path reads
 * the block joined into one statement.
 */
function readElements(run: string): string[] {
  const lines = run.split('\n').map((raw) => raw.trim());
  return plainElements(lines) ?? splitElements(lines.join(' '));
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
 * parseNftStatements, in one pass over the text without a string per line:
 * consecutive plain rule lines of one chain, and element blocks, are kept
 * as slices of the text (Items), read only if the planner finds them
 * changed; anything else is read the general way. At 10,000 service ports
 * the files have a million lines: reading them was most of the incremental
 * path's planning time.
 */
export function parseNft(text: string): NftObjects {
  const tables = new Tables();
  const length = text.length;
  let pos = 0;
  // Where the next `{` and `}` are (length when none): a span holds a brace when one is before its end. Searched again only once passed, so each character is looked at once in all.
  let open = -1;
  let close = -1;
  const braceIn = (from: number, to: number): boolean => {
    if (open < from) open = text.indexOf('{', from) >>> 0;
    if (close < from) close = text.indexOf('}', from) >>> 0;
    return open < to || close < to;
  };
  const run = new OpenRun(text);
  const lineEnd = (from: number) => {
    const end = text.indexOf('\n', from);
    return end < 0 ? length : end;
  };
  const nextLine = (): string => {
    const end = lineEnd(pos);
    const line = text.slice(pos, end);
    pos = end + 1;
    return line.trim();
  };
  while (pos < length) {
    const start = pos;
    const end = lineEnd(start);
    // The next rule of the run: one comparison, no string.
    if (run.continues(start) && !braceIn(start, end)) {
      run.extend(end);
      pos = end + 1;
      continue;
    }
    run.close();
    const line = nextLine();
    if (line === '' || line.charCodeAt(0) === 35) continue;
    const rule = line.startsWith('add rule ') && braces(line) === 0 ? plainStatement(line, 9) : null;
    if (rule) {
      const chain = tables.get(rule[0], rule[1]).chains.get(rule[2]);
      if (!chain) throw new Error(`a rule for chain ${rule[2]} before the chain is declared`);
      // A line with a rule after the chain's name starts a run (readRules trims each line as nextLine does); a bare `add rule F T C` is read now, as its prefix would match other chains' lines.
      if (rule[3] !== '') run.open(chain.rules, line.slice(0, line.length - rule[3].length), start, end);
      else chain.rules.add(rule[3]);
      continue;
    }
    const chain = line.startsWith('add chain ') && !line.includes('{') && !line.includes('}') ? plainStatement(line, 10) : null;
    if (chain && chain[3] === '') {
      const table = tables.get(chain[0], chain[1]);
      if (!table.chains.has(chain[2])) table.chains.set(chain[2], newChain(''));
      continue;
    }
    if (line.startsWith('add element ') && line.endsWith(' {') && line.indexOf('{') === line.length - 1 && !line.includes('"')) {
      const head = STATEMENT.exec(line.slice(0, -2));
      const block = head && head[6] === '' ? elementBlock(pos) : null;
      if (head && block) {
        const set = tables.get(head[3]!, head[4]!).sets.get(head[5]!);
        if (!set) throw new Error(`elements for ${head[5]} before the set is declared`);
        set.elements.addRun(text.slice(pos, Math.max(pos, block.close - 1)));
        pos = block.next;
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
  run.close();
  return tables.map;

  /** The element block whose lines start at `from`: where its closing `}` line is and the next line, when it holds no brace and that line is just `}` (else null: the general path reads it). */
  function elementBlock(from: number): { close: number; next: number } | null {
    const found = text.indexOf('\n}', from - 1);
    if (found < 0) return null;
    const closeAt = found + 1;
    const after = lineEnd(closeAt);
    if (text.slice(closeAt + 1, after).trim() !== '' || braceIn(from, closeAt)) return null;
    return { close: closeAt, next: after + 1 };
  }
}

/** Elements of lines that each hold whole elements (`10.0.0.1 . tcp . 80 : goto x,`), or null when a line is not that plain. */
function plainElements(lines: string[]): string[] | null {
  const out: string[] = [];
  for (const line of lines) {
    if (line.startsWith('#') || !PLAIN_ELEMENT.test(line) || (line.split('"').length - 1) % 2 !== 0) return null;
    if (line.includes('"') || line.indexOf(',') !== line.length - 1) {
      for (const entry of splitElements(line)) out.push(entry);
      continue;
    }
    const entry = line.slice(0, -1).trim();
    if (entry) out.push(/\s\s|[^\S ]/.test(entry) ? entry.replace(/\s+/g, ' ') : entry);
  }
  return out;
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
      // Most sets are written the same: no need to read their elements. Text that differs may still hold the same elements: changedElements then finds none.
      if (old && old.elements.sameParts(set.elements)) continue;
      const { gone, added } = old ? changedElements(old.elements, set.elements) : elementChanges([], set.elements.list());
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
      else if (old.rules.equals(chain.rules)) continue;
      else phases.flush.push(`flush chain ${at} ${name}`);
      changes++;
      for (const rule of chain.rules.list()) phases.rules.push(`add rule ${at} ${name} ${rule}`);
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
 * Elements only in `before` and only in `after`. A set written as one
 * block of plain lines both times (a map of 100,000 endpoints with one
 * changed) is compared as text first: only the lines between the blocks'
 * common head and tail are read (reading all of both was a third of a
 * second). Exact, as elementChanges, because a set holds an element once: an
 * element on a line both blocks have is in both.
 */
function changedElements(before: Items, after: Items): { gone: string[]; added: string[] } {
  const a = before.soleRun();
  const b = after.soleRun();
  if (a === null || b === null || !lineByLine(a) || !lineByLine(b)) return elementChanges(before.list(), after.list());
  const [x, y] = differingLines(a, b);
  // Two changes far apart leave a long middle (a hairpin set sorted by address): equal lines in it read alike, so only the others are read.
  const [xs, ys] = [x.split('\n'), y.split('\n')];
  const [had, has] = [new Set(xs), new Set(ys)];
  return elementChanges(readElements(xs.filter((line) => !has.has(line)).join('\n')), readElements(ys.filter((line) => !had.has(line)).join('\n')));
}

/** A block whose every line readElements reads alone (none holds a quote, a bracket or a `#`). */
const lineByLine = (run: string) => !/["#{}[\]()]/.test(run);

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
