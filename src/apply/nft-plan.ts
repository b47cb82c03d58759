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
  const bare = line.replace(/"[^"]*"/g, '""');
  return (bare.match(/\{/g)?.length ?? 0) - (bare.match(/\}/g)?.length ?? 0);
}

const STATEMENT = /^(add|delete|flush) (table|chain|set|map|rule|element) (ip6?|inet) (\S+)(?: (\S+))?(.*)$/;

/** Reads a kpc-generated nftables file into objects; throws on anything it does not know (the caller then loads in full). */
export function parseNft(text: string): NftObjects {
  const tables: NftObjects = new Map();
  const tableOf = (family: string, name: string): NftTable => {
    const key = `${family} ${name}`;
    let table = tables.get(key);
    if (!table) tables.set(key, (table = { family: family as NftFamily, name, decl: '', chains: new Map(), sets: new Map() }));
    return table;
  };
  for (const statement of statements(text)) {
    const match = STATEMENT.exec(statement);
    if (!match) throw new Error(`not a statement the planner knows: ${statement.slice(0, 80)}`);
    const [, verb, kind, family, tableName, objectName, rawRest] = match;
    const rest = rawRest ?? '';
    if (kind === 'table') {
      const decl = `${objectName ? ` ${objectName}` : ''}${rest}`;
      if (verb === 'delete') tables.delete(`${family} ${tableName}`);
      else if (verb === 'add') {
        const table = tableOf(family!, tableName!);
        if (decl) table.decl = decl;
      } else throw new Error(`${verb} table is not something the planner knows`);
      continue;
    }
    const table = tableOf(family!, tableName!);
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
      case 'rule': {
        const chain = table.chains.get(name);
        if (!chain) throw new Error(`a rule for chain ${name} before the chain is declared`);
        chain.rules.push(rest.replace(/^ /, ''));
        break;
      }
      case 'element': {
        const set = table.sets.get(name);
        if (!set) throw new Error(`elements for ${name} before the set is declared`);
        const body = /^\s*\{(.*)\}\s*$/.exec(rest);
        if (!body) throw new Error(`elements for ${name} are not one { ... } list`);
        set.elements.push(...splitElements(body[1]!));
        break;
      }
    }
  }
  return tables;
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
      const had = new Set(old?.elements ?? []);
      const has = new Set(set.elements);
      const gone = [...had].filter((e) => !has.has(e));
      const added = set.elements.filter((e) => !had.has(e));
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
