/**
 * The iptables incremental planner: two iptables-restore files kpc
 * generated for one family (the one the host holds, the one wanted) in, one
 * `iptables-restore --noflush` input of their differences out, as
 * kube-proxy's partial sync writes it. Pure, so every case is a unit test.
 *
 * With --noflush, a declared chain (`:KUBE-X - [0:0]`) is created or
 * flushed and every other chain is left as it is. So only the owned chains
 * whose rules changed, and the new ones, are declared and written; a chain
 * no longer wanted is declared (flushed: its jumps to other chains go) and
 * deleted with -X after every rule that jumped to it was rewritten. Rules
 * in built-in chains (INPUT's jumps into KUBE-SERVICES...) are never
 * touched here: if they changed, the planner says `full` and the caller
 * does the full transition as before.
 */

import { Items, OpenRun } from './items.js';
import { isOwnedChain, scattered, WHOLE_TABLE_CACHE } from './iptables.js';

export interface RestoreTable {
  /** Chain names in declaration order, built-in ones with their policy; rules after `-A NAME `. */
  chains: Map<string, { policy: string; rules: Items }>;
}

/** Tables by name, in file order. */
export type RestoreFile = Map<string, RestoreTable>;

/** A run of `-A NAME rule` lines of one chain into its rules (each line's end trimmed, as parseRestore reads lines). */
const readRules = (run: string): string[] =>
  run.split('\n').map((raw) => {
    const line = raw.trimEnd();
    const space = line.indexOf(' ', 3);
    return space < 0 ? '' : line.slice(space + 1);
  });

/**
 * Reads iptables-restore text as kpc writes it (counters and comments
 * ignored). One pass over the text, without a string per line: at 10,000
 * service ports it has 400,000 lines. Consecutive rules of one chain are
 * kept as one slice of the text (Items), read into rules only if the
 * planner finds the chain changed.
 */
export function parseRestore(text: string): RestoreFile {
  const tables: RestoreFile = new Map();
  let current: RestoreTable | null = null;
  const run = new OpenRun(text);
  const length = text.length;
  let pos = 0;
  while (pos <= length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = length;
    const start = pos;
    pos = end + 1;
    // Rules of one chain mostly come together: the next line of the run costs one comparison.
    if (run.continues(start)) {
      run.extend(end);
      continue;
    }
    run.close();
    const first = text.charCodeAt(start);
    // `-A NAME rule` and `:NAME POLICY [0:0]` (all but a few lines) are read in place; the name ends at a space on the line.
    const space = first === 45 || first === 58 ? text.indexOf(' ', start) : -1;
    const nameEnd = space < 0 || space >= end ? -1 : first === 45 ? text.indexOf(' ', space + 1) : space;
    if (current && first === 45 && space === start + 2 && text.startsWith('-A ', start) && nameEnd > space && nameEnd < end) {
      const name = text.slice(start + 3, nameEnd);
      const chain = current.chains.get(name);
      if (!chain) throw new Error(`a rule for chain ${name} before it is declared`);
      run.open(chain.rules, text.slice(start, nameEnd + 1), start, end);
      continue;
    }
    // A policy must follow the name (`:NAME ` alone, or two spaces, the general path reads).
    if (current && first === 58 && nameEnd > start + 1 && nameEnd + 1 < end && text.charCodeAt(nameEnd + 1) > 32) {
      const name = text.slice(start + 1, nameEnd);
      const policyEnd = text.indexOf(' ', nameEnd + 1);
      if (!current.chains.has(name)) current.chains.set(name, { policy: policyEnd >= 0 && policyEnd < end ? text.slice(nameEnd + 1, policyEnd) : text.slice(nameEnd + 1, end).trimEnd(), rules: new Items(readRules) });
      continue;
    }
    const line = text.slice(start, end).trimEnd();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('-A ')) {
      if (!current) throw new Error(`a line outside any table: ${line.slice(0, 80)}`);
      const at = line.indexOf(' ', 3);
      const name = at < 0 ? line.slice(3) : line.slice(3, at);
      const chain = current.chains.get(name);
      if (!chain) throw new Error(`a rule for chain ${name} before it is declared`);
      chain.rules.add(at < 0 ? '' : line.slice(at + 1));
    } else if (line.startsWith('*')) {
      current = { chains: new Map() };
      tables.set(line.slice(1), current);
    } else if (line === 'COMMIT') {
      current = null;
    } else if (!current) throw new Error(`a line outside any table: ${line.slice(0, 80)}`);
    else if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(' ');
      if (!current.chains.has(name!)) current.chains.set(name!, { policy: policy ?? '-', rules: new Items(readRules) });
    } else throw new Error(`not a line the planner knows: ${line.slice(0, 80)}`);
  }
  run.close();
  return tables;
}

/**
 * From this many declared chains on, a table's restore starts with
 * WHOLE_TABLE_CACHE: iptables-nft's --noflush parse costs the square of the
 * chains it names (10,000: 3 s), while the listing costs the table's size
 * (about a second at 10,000 service ports), too much for the usual few
 * chains. Safe first in the table here: this planner never writes built-in chains.
 */
export const MANY_CHAINS = 1000;

export type RestorePlan =
  | { kind: 'same' }
  | { kind: 'incremental'; restore: string; changes: number }
  | { kind: 'full'; reason: string };

/**
 * The --noflush input from `live` to `wanted`, every table of `wanted`
 * listed (a table with no change gets only `extra`'s lines: the generation
 * marker, rewritten in each table's own commit). `extra(table)` gives
 * those lines.
 */
export function planRestore(live: RestoreFile, wanted: RestoreFile, extra: (table: string) => string[] = () => []): RestorePlan {
  const names = [...wanted.keys()];
  if ([...live.keys()].join('|') !== names.join('|')) return { kind: 'full', reason: 'the tables differ' };
  const out: string[] = [];
  let changes = 0;
  for (const tableName of names) {
    const before = live.get(tableName)!;
    const after = wanted.get(tableName)!;
    const declare: string[] = [];
    const rules: string[] = [];
    const remove: string[] = [];
    for (const [name, chain] of after.chains) {
      const old = before.chains.get(name);
      if (!isOwnedChain(name)) {
        if (!old || old.policy !== chain.policy || !old.rules.equals(chain.rules)) return { kind: 'full', reason: `${tableName} chain ${name} changed` };
        continue;
      }
      if (old && old.rules.equals(chain.rules)) continue;
      changes++;
      declare.push(name);
      for (const rule of chain.rules.list()) rules.push(`-A ${name} ${rule}`);
    }
    for (const name of before.chains.keys()) {
      if (after.chains.has(name)) continue;
      if (!isOwnedChain(name)) return { kind: 'full', reason: `${tableName} chain ${name} is no longer written` };
      changes++;
      declare.push(name);
      remove.push(name);
    }
    restoreTable(out, tableName, declare, rules, remove, extra(tableName));
  }
  if (changes === 0) return { kind: 'same' };
  return { kind: 'incremental', restore: out.join('\n') + '\n', changes };
}

/**
 * One table of a --noflush restore onto `out`: `declare`d chains (created,
 * or flushed), their `rules` (`-A ...` lines), the `remove`d chains deleted
 * after every rule that jumped to them was rewritten, `extra` lines last.
 */
export function restoreTable(out: string[], table: string, declare: string[], rules: string[], remove: string[], extra: string[]): void {
  // Many chains at once (a big change): the whole-table cache keeps iptables-nft's parse linear, and new chains are created in scattered order (see both in iptables.ts).
  const many = declare.length >= MANY_CHAINS;
  const declarations = (many ? scattered(declare) : declare).map((name) => `:${name} - [0:0]`);
  // Appended one list at a time: spreading 100,000 rules into one push() overflows the stack.
  for (const part of [[`*${table}`], many ? [WHOLE_TABLE_CACHE] : [], declarations, rules, remove.map((name) => `-X ${name}`), extra, ['COMMIT']]) for (const line of part) out.push(line);
}
