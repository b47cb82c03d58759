/**
 * iptables state as apply sees it: iptables-save text split into what kpc
 * owns and what it must never touch, and the `iptables-restore --noflush`
 * input that moves the owned part from one state to another.
 *
 * Ownership (the same line kube-proxy draws):
 * - every user chain whose name starts with KUBE- in the filter and nat
 *   tables (except *-CANARY chains, kubelet's and kube-proxy's flush probes),
 * - every rule in a built-in chain (INPUT, FORWARD, ...) that jumps (-j/-g)
 *   to such a chain.
 * Everything else (policies, other rules of the built-in chains, every other
 * chain, every other table) is foreign: never declared, flushed or deleted.
 */

export const TABLES = ['filter', 'nat'] as const;
export type TableName = (typeof TABLES)[number];

export interface SavedChain {
  name: string;
  /** The policy of a built-in chain; '-' for a user chain. */
  policy: string;
  /** Rule specifications in order, as iptables-save prints them after `-A CHAIN `. */
  rules: string[];
}

export interface SavedTable {
  name: string;
  chains: Map<string, SavedChain>;
}

/** Parses iptables-save output (any tables); counters are dropped. */
export function parseSave(text: string): Map<string, SavedTable> {
  const tables = new Map<string, SavedTable>();
  let current: SavedTable | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      current = { name: line.slice(1), chains: new Map() };
      tables.set(current.name, current);
    } else if (line === 'COMMIT') {
      current = null;
    } else if (current && line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(' ');
      current.chains.set(name!, { name: name!, policy: policy ?? '-', rules: [] });
    } else if (current && line.startsWith('-A ')) {
      const rest = line.slice(3);
      const space = rest.indexOf(' ');
      const chainName = space < 0 ? rest : rest.slice(0, space);
      const spec = space < 0 ? '' : rest.slice(space + 1);
      let chain = current.chains.get(chainName);
      if (!chain) current.chains.set(chainName, (chain = { name: chainName, policy: '-', rules: [] }));
      chain.rules.push(spec);
    } else {
      throw new Error(`unexpected line in iptables-save output: ${JSON.stringify(line)}`);
    }
  }
  return tables;
}

export function isOwnedChain(name: string): boolean {
  return name.startsWith('KUBE-') && !name.endsWith('-CANARY');
}

function isBuiltin(chain: SavedChain): boolean {
  return chain.policy !== '-';
}

/** The chain a rule jumps or goes to, if any. */
export function ruleTarget(spec: string): string | null {
  const match = /(?:^|\s)-[jg] (\S+)/.exec(spec);
  return match ? match[1]! : null;
}

export interface Jump {
  /** The rule's specification. */
  spec: string;
  /** 1-based position in its built-in chain, counting every rule. */
  index: number;
}

/** kpc's part of one table. */
export interface OwnedTable {
  /** Owned chains by name, each with its rules. */
  chains: Map<string, string[]>;
  /** Jumps into owned chains from each built-in chain, in chain order. */
  jumps: Map<string, Jump[]>;
}

export function ownedPart(table: SavedTable | undefined): OwnedTable {
  const owned: OwnedTable = { chains: new Map(), jumps: new Map() };
  if (!table) return owned;
  for (const chain of table.chains.values()) {
    if (isOwnedChain(chain.name)) owned.chains.set(chain.name, [...chain.rules]);
    else if (isBuiltin(chain)) {
      const jumps: Jump[] = [];
      chain.rules.forEach((spec, i) => {
        const target = ruleTarget(spec);
        if (target && isOwnedChain(target)) jumps.push({ spec, index: i + 1 });
      });
      if (jumps.length) owned.jumps.set(chain.name, jumps);
    }
  }
  return owned;
}

/**
 * kpc's part as text, for comparing and for showing a difference: jumps per
 * built-in chain (their order, not their position among foreign rules), then
 * owned chains by name with their rules. Two states with the same text are
 * the same for kpc; foreign rules never appear in it.
 */
export function ownedText(table: TableName, owned: OwnedTable): string {
  const lines = [`*${table}`];
  for (const chain of [...owned.jumps.keys()].sort()) {
    for (const jump of owned.jumps.get(chain)!) lines.push(`-A ${chain} ${jump.spec}`);
  }
  for (const name of [...owned.chains.keys()].sort()) {
    lines.push(`:${name}`);
    for (const spec of owned.chains.get(name)!) lines.push(`-A ${name} ${spec}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * A command in every table kpc restores with --noflush, so that
 * iptables-nft reads the table in time linear in its size.
 *
 * iptables-nft (from 1.8.5 to its newest source; 1.8.9 measured) fetches
 * only the chains a --noflush restore names, and collects their names as it
 * parses: every `:CHAIN` line, every rule's chain and every jump's target is
 * inserted into a sorted linked list, each insertion walking it from the
 * start (nft-cache.c, cache_chain_list_insert). Parsing kpc's input thus
 * takes time in the square of its chains: `--noflush --test` ran 3.2 s at
 * 1,000 service ports (10,439 chains) and 139 s at 3,000 (31,572 chains),
 * and a commit as long again. A command that names no chain makes it fetch
 * the whole table instead and stop collecting names for the rest of the
 * table (0.15 s and 0.5 s). `-S` (list every rule of the table) is the one
 * such command that changes nothing: `-F`, `-X` and `-Z` without a chain
 * would flush, delete or zero foreign chains. It runs at commit time,
 * printing the table as it was (callers send that to /dev/null:
 * discardStdout), and `--test` never runs it. iptables-legacy accepts it too.
 *
 * It comes after the rules kpc writes in built-in chains, not first: up to
 * iptables 1.8.10, listing puts a missing built-in chain (INPUT of a filter
 * table that has only OUTPUT, or of no filter table at all) into the cache
 * as if it existed, and a later `-I INPUT` then fails with ENOENT instead
 * of creating it (fixed upstream by "nft: cache: Annotate faked base chains
 * as such", 2024). The few chains named before it cost nothing.
 */
export const WHOLE_TABLE_CACHE = '-S';

/**
 * Where the wanted jumps go: 'top' puts them first in their built-in chains in
 * their order (as kube-proxy inserts them); 'recorded' puts each back at the
 * index it had (a rollback to a state read earlier).
 */
export type JumpPlacement = 'top' | 'recorded';

/**
 * The `iptables-restore --noflush` input for one table that turns the owned
 * part of `live` into `wanted`, in one commit:
 *
 *   :KUBE-SERVICES - [0:0]  the wanted chains built-in chains jump to: created or flushed
 *   -D INPUT <spec>         every live jump into an owned chain (so none is ever duplicated)
 *   -I INPUT N <spec>       the wanted jumps
 *   -S                      lists the table (to /dev/null): see WHOLE_TABLE_CACHE
 *   :KUBE-X - [0:0]         every other wanted chain (in scattered order) and every stale owned chain: created or flushed
 *   -A KUBE-X <spec>        the wanted chains' rules
 *   -X KUBE-OLD             stale chains, empty by now and no longer referenced
 *
 * Built-in chains are never declared (that would reset their policies), and
 * no rule that is not kpc's is named. Returns null when nothing differs.
 */
export function transition(table: TableName, live: SavedTable | undefined, wanted: OwnedTable, placement: JumpPlacement): string | null {
  const current = ownedPart(live);
  if (ownedText(table, current) === ownedText(table, wanted) && placement === 'top') return null;
  if (sameWithIndexes(current, wanted) && placement === 'recorded') return null;
  const lines = [`*${table}`];
  const stale = [...current.chains.keys()].filter((name) => !wanted.chains.has(name)).sort();
  const targets = new Set([...wanted.jumps.values()].flatMap((jumps) => jumps.map((jump) => ruleTarget(jump.spec)!)));
  const wantedNames = [...wanted.chains.keys()].sort();
  for (const name of wantedNames.filter((n) => targets.has(n))) lines.push(`:${name} - [0:0]`);
  for (const [chain, jumps] of current.jumps) {
    for (const jump of jumps) lines.push(`-D ${chain} ${jump.spec}`);
  }
  for (const [chain, jumps] of wanted.jumps) {
    // Foreign rules left in the chain once every owned jump is deleted (a missing chain is created empty).
    const foreign = (live?.chains.get(chain)?.rules.length ?? 0) - (current.jumps.get(chain)?.length ?? 0);
    jumps.forEach((jump, i) => {
      const index = placement === 'top' ? i + 1 : Math.min(jump.index, foreign + i + 1);
      lines.push(`-I ${chain} ${index} ${jump.spec}`);
    });
  }
  lines.push(WHOLE_TABLE_CACHE);
  for (const name of scattered(wantedNames.filter((n) => !targets.has(n)))) lines.push(`:${name} - [0:0]`);
  for (const name of stale) lines.push(`:${name} - [0:0]`);
  for (const name of wantedNames) {
    for (const spec of wanted.chains.get(name)!) lines.push(`-A ${name} ${spec}`);
  }
  for (const name of stale) lines.push(`-X ${name}`);
  lines.push('COMMIT');
  return lines.join('\n') + '\n';
}

/**
 * Chain names in an order unrelated to their sort order, the same on every
 * run (sorted by a hash of the name, FNV-1a). The kernel lists chains in the
 * order they were created, and iptables-nft's iptables-save sorts them with
 * a quicksort that takes the first element as pivot (nft-cache.c,
 * __nft_chain_list_sort): on chains created in name order it takes time in
 * the square of their number and recurses once per chain, so at 10,000
 * service ports (about 70,000 nat chains) iptables-save died of a stack
 * overflow (SIGSEGV) after kpc had committed them in sorted order, and every
 * later apply failed reading the host. 40,000 chains: 12.5 s sorted, 0.25 s
 * scattered.
 */
export function scattered(names: string[]): string[] {
  const key = new Map(names.map((name) => [name, fnv1a(name)]));
  return [...names].sort((a, b) => key.get(a)! - key.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function sameWithIndexes(a: OwnedTable, b: OwnedTable): boolean {
  const key = (o: OwnedTable) =>
    JSON.stringify({ chains: [...o.chains.entries()].sort(), jumps: [...o.jumps.entries()].sort() });
  return key(a) === key(b);
}

/**
 * Everything that is not kpc's, as text: built-in chains with their policies
 * and foreign rules, and every foreign chain. Used to prove apply left it alone.
 */
export function foreignText(table: SavedTable | undefined): string {
  if (!table) return '';
  const lines = [`*${table.name}`];
  for (const chain of [...table.chains.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (isOwnedChain(chain.name)) continue;
    lines.push(`:${chain.name} ${chain.policy}`);
    for (const spec of chain.rules) {
      const target = ruleTarget(spec);
      if (isBuiltin(chain) && target && isOwnedChain(target)) continue;
      lines.push(`-A ${chain.name} ${spec}`);
    }
  }
  return lines.join('\n') + '\n';
}
