/**
 * The iptables incremental plan from the two texts' differences, without
 * reading either whole: the same plan planRestore makes from parseRestore's
 * tables, for texts laid out as kpc's emitter lays them out.
 *
 * Reading both texts was most of an incremental apply at 10,000 service
 * ports (400,000 lines, 105,000 chains each: a quarter of a second), while
 * one changed endpoint changes a few lines. In each table kpc writes every
 * declaration, then every rule, so each block's common head and tail are
 * found by comparing text (differingLines), and only the lines between are
 * read. A chain's rules are the same in both texts exactly when its lines
 * between head and tail are: outside them the two texts are equal line for
 * line, in order. Chains that differ are rewritten with all their lines
 * from the wanted text, found by searching for their `-A NAME ` prefix.
 *
 * Anything laid out otherwise (a comment or a declaration among the rules,
 * a table missing) returns null, and the caller reads the texts whole.
 */

import { differingWholeLines } from './items.js';
import { isOwnedChain } from './iptables.js';
import { restoreTable, type RestorePlan } from './iptables-plan.js';

/** At most this many chains changed per table are found by searching the text; more, and the caller reads the texts whole. */
export const SEARCHED_CHAINS = 200;

/** One table's blocks: `*NAME`, declarations (`:CHAIN POLICY [0:0]` lines), rules (`-A CHAIN ...` lines), `COMMIT`; each block ends with a newline (or is empty). */
interface Blocks {
  name: string;
  declarations: string;
  rules: string;
}

export function planRestoreText(live: string, wanted: string, extra: (table: string) => string[] = () => []): RestorePlan | null {
  const before = tablesOf(live);
  const after = tablesOf(wanted);
  if (!before || !after) return null;
  if (before.map((t) => t.name).join('|') !== after.map((t) => t.name).join('|')) return { kind: 'full', reason: 'the tables differ' };
  const out: string[] = [];
  let changes = 0;
  for (const [i, table] of after.entries()) {
    const old = before[i]!;
    const declared = declarationChanges(old.declarations, table.declarations);
    const rewritten = rulesChanged(old.rules, table.rules);
    if (!declared || !rewritten) return null;
    // Chains in the wanted text's declaration order, then the ones it no longer has in the live text's, as planRestore orders them.
    const changed = [...new Set([...declared.added, ...rewritten])].filter((name) => !declared.removed.has(name));
    // Each changed or removed chain costs a search of the text (byPosition, linesOf): past a few, reading both texts whole is cheaper.
    if (changed.length + declared.removed.size > SEARCHED_CHAINS) return null;
    // A chain kpc does not own (a built-in one) that changed: planRestore's answer, a full load. An owned chain's policy is always `-`.
    for (const name of [...changed, ...declared.redeclared, ...declared.removed]) {
      if (!isOwnedChain(name)) return { kind: 'full', reason: declared.removed.has(name) ? `${table.name} chain ${name} is no longer written` : `${table.name} chain ${name} changed` };
    }
    const ordered = byPosition(table.declarations, changed);
    const removed = byPosition(old.declarations, [...declared.removed]);
    if (!ordered || !removed) return null;
    changes += ordered.length + removed.length;
    const rules: string[] = [];
    for (const name of ordered) for (const line of linesOf(table.rules, name)) rules.push(line);
    restoreTable(out, table.name, [...ordered, ...removed], rules, removed, extra(table.name));
  }
  if (changes === 0) return { kind: 'same' };
  return { kind: 'incremental', restore: out.join('\n') + '\n', changes };
}

/**
 * The tables of a text as kpc writes it (one comment line first at most),
 * or null. Each block ends with a newline. The lines in them are not
 * checked here: lines the two texts share do not matter to the plan, and
 * the others are checked as they are read (namesOf).
 */
function tablesOf(text: string): Blocks[] | null {
  const tables: Blocks[] = [];
  let pos = 0;
  if (text.startsWith('#')) {
    pos = text.indexOf('\n') + 1;
    if (pos === 0) return null;
  }
  while (pos < text.length) {
    if (text.charCodeAt(pos) !== 42 /* * */) return null;
    const head = text.indexOf('\n', pos);
    const commit = head < 0 ? -1 : text.indexOf('\nCOMMIT\n', head);
    if (commit < 0) return null;
    const body = text.slice(head + 1, commit + 1);
    const firstRule = body.startsWith('-A ') ? 0 : body.indexOf('\n-A ') + 1 || body.length;
    tables.push({ name: text.slice(pos + 1, head), declarations: body.slice(0, firstRule), rules: body.slice(firstRule) });
    pos = commit + '\nCOMMIT\n'.length;
  }
  return tables;
}

/** Chains declared only in the live block, only in the wanted one, and in both but differently (a policy); null when a declaration is not `:NAME POLICY ...`. */
function declarationChanges(live: string, wanted: string): { removed: Set<string>; added: string[]; redeclared: string[] } | null {
  const [a, b] = differingWholeLines(live, wanted);
  const had = namesOf(a, ':');
  const has = namesOf(b, ':');
  if (!had || !has) return null;
  // kpc declares each chain once (test/emit/chain-declarations.test.ts): a name between head and tail on one side only is one side's alone.
  const removed = new Set([...had.keys()].filter((name) => !has.has(name)));
  const added = [...has.keys()].filter((name) => !had.has(name));
  const redeclared = [...has.keys()].filter((name) => had.has(name) && had.get(name) !== has.get(name));
  return { removed, added, redeclared };
}

/** The chains whose lines between the rules blocks' common head and tail differ. */
function rulesChanged(live: string, wanted: string): string[] | null {
  const [a, b] = differingWholeLines(live, wanted);
  const had = namesOf(a, '-A ');
  const has = namesOf(b, '-A ');
  if (!had || !has) return null;
  return [...new Set([...had.keys(), ...has.keys()])].filter((name) => had.get(name) !== has.get(name));
}

/** Lines (each ending with a newline) by the chain they name after `marker`, joined in order; null when a line names none. */
function namesOf(lines: string, marker: string): Map<string, string> | null {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < lines.length) {
    const end = lines.indexOf('\n', pos);
    const space = lines.indexOf(' ', pos + marker.length);
    if (end < 0 || !lines.startsWith(marker, pos) || space < 0 || space > end) return null;
    const name = lines.slice(pos + marker.length, space);
    out.set(name, (out.get(name) ?? '') + lines.slice(pos, end + 1));
    pos = end + 1;
  }
  return out;
}

/** `names` ordered by where `block` declares them; null when one is not declared there. */
function byPosition(block: string, names: string[]): string[] | null {
  const at = new Map<string, number>();
  for (const name of names) {
    const found = block.startsWith(`:${name} `) ? 0 : block.indexOf(`\n:${name} `);
    if (found < 0) return null;
    at.set(name, found);
  }
  return [...names].sort((x, y) => at.get(x)! - at.get(y)!);
}

/** Every `-A NAME ...` line of a rules block, in order. */
function linesOf(rules: string, name: string): string[] {
  const out: string[] = [];
  const prefix = `-A ${name} `;
  const next = (from: number) => {
    const found = rules.indexOf(`\n${prefix}`, from);
    return found < 0 ? -1 : found + 1;
  };
  for (let pos = rules.startsWith(prefix) ? 0 : next(0); pos >= 0; ) {
    const end = rules.indexOf('\n', pos);
    const stop = end < 0 ? rules.length : end;
    out.push(rules.slice(pos, stop));
    pos = next(stop);
  }
  return out;
}
