/**
 * nftables state as apply sees it. kpc owns exactly `table ip kube-proxy`
 * and `table ip6 kube-proxy`; the generated file replaces each in one
 * transaction (add, delete, add ...), so every other table is never named.
 */

export type NftFamily = 'ip' | 'ip6';

export const TABLE_NAME = 'kube-proxy';

/** The kube-proxy tables a generated file writes. */
export function familiesIn(script: string): NftFamily[] {
  const found = new Set<NftFamily>();
  for (const match of script.matchAll(/^add table (ip6?) kube-proxy\b/gm)) found.add(match[1] as NftFamily);
  return [...found].sort();
}

/** The kube-proxy tables `nft list tables` shows. */
export function liveTables(listing: string): NftFamily[] {
  const found: NftFamily[] = [];
  for (const line of listing.split('\n')) {
    const match = /^table (ip6?) kube-proxy$/.exec(line.trim());
    if (match) found.push(match[1] as NftFamily);
  }
  return found.sort();
}

const COMMAND = /^(add|delete|flush) (table|chain|rule|set|map|element) (ip6?) kube-proxy(.*)$/;
/** Chain, set and map names as kpc writes them (kube-proxy's, e.g. `endpoint-X-ns/name/tcp/p__10.0.0.1/80`). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_./:[\]-]*$/;

/**
 * A last structural guard before a file is handed to nft as root: every
 * command must address one of kpc's own tables, name its object with a plain
 * name, and hold no `;` or `#` outside quotes except in the `{ ... }` block of
 * a declaration (so nothing can end a command and start another, or comment
 * part of one out). Validation already makes all this true; if it ever is
 * not, no byte of the file reaches the kernel.
 */
export function assertOwnTablesOnly(script: string): void {
  let depth = 0;
  script.split('\n').forEach((line, i) => {
    const fail = (why: string) => {
      throw new Error(`line ${i + 1} of the nftables input ${why}: ${JSON.stringify(line.slice(0, 120))}`);
    };
    const bare = unquoted(line, fail);
    if (depth > 0) {
      // Continuation lines of a multi-line element list.
      if (/[;#]/.test(bare)) fail('has a ; or # inside an element list');
      depth += count(bare, '{') - count(bare, '}');
      if (depth < 0) fail('closes more braces than it opened');
      return;
    }
    if (line === '' || line.startsWith('#')) return;
    const match = COMMAND.exec(line);
    if (!match) fail("does not address kpc's own kube-proxy table");
    const [, verb, kind, , rest] = match!;
    if (verb === 'flush' && kind !== 'chain') fail('flushes something other than a chain');
    const tail = unquoted(rest!, fail);
    if (kind === 'table') {
      if (tail !== '' && !/^ \{ comment "" ; \}$/.test(tail)) fail('declares the table with more than a comment');
      return;
    }
    const name = /^ (\S+)(.*)$/.exec(tail);
    if (!name || !NAME.test(name[1]!)) fail('names an object with something that is not a plain name');
    const after = name![2]!;
    if (kind === 'rule' || kind === 'element' || verb === 'delete' || verb === 'flush') {
      if (/[;#]/.test(after)) fail('has a ; or # outside quotes');
    } else if (after !== '' && !/^ \{[^{}#]*\}$/.test(after)) {
      fail('declares an object with something other than one { ... } block');
    }
    depth = Math.max(0, count(after, '{') - count(after, '}'));
  });
  if (depth !== 0) throw new Error('the nftables input ends inside a { } block');
}

/** The line with every "quoted" string emptied (kpc never writes escaped quotes). */
function unquoted(line: string, fail: (why: string) => never): string {
  if (count(line, '"') % 2 !== 0) fail('has an unbalanced quote');
  return line.replace(/"[^"]*"/g, '""');
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}

/** `nft -f` lines that remove kube-proxy tables a previous apply left and this one no longer writes. */
export function staleTableDeletes(live: NftFamily[], wanted: NftFamily[]): string {
  return live
    .filter((family) => !wanted.includes(family))
    .map((family) => `add table ${family} ${TABLE_NAME}\ndelete table ${family} ${TABLE_NAME}\n`)
    .join('');
}

/**
 * `nft list table` text made comparable: the elements of dynamic sets (session
 * affinity sources the kernel adds at run time, with ticking `expires`) and
 * counter values are state, not rules; and the order of a table's sets, maps
 * and chains is the order they were created in (an incremental apply adds new
 * ones after the old, a full load in file order), so they are sorted.
 */
export function normalizeListing(listing: string): string {
  return sortObjects(withoutState(listing));
}

/** An object of a table in a listing: `\tset NAME {`, `\tmap`, `\tchain` ... up to `\t}`. */
const OBJECT_START = /^\t(\S+) (\S+) \{$/;

/**
 * Each table's objects sorted by kind and name, one blank line apart (as nft
 * lists them); the table's own lines (its comment, flags) first. A listing
 * not shaped so is returned as it is.
 */
function sortObjects(listing: string): string {
  const out: string[] = [];
  let head: string[] | null = null;
  let objects: { key: string; lines: string[] }[] = [];
  let current: string[] | null = null;
  for (const line of listing.split('\n')) {
    if (current) {
      current.push(line);
      if (line === '\t}') current = null;
      continue;
    }
    if (head === null) {
      out.push(line);
      if (/^table \S+ \S+ \{$/.test(line)) head = [];
      continue;
    }
    const start = OBJECT_START.exec(line);
    if (start) {
      current = [line];
      objects.push({ key: `${start[1] === 'chain' ? 1 : 0} ${start[2]}`, lines: current });
    } else if (line === '}') {
      objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      // Line by line: a map of 100,000 elements is too many arguments for one push().
      for (const l of head) out.push(l);
      objects.forEach((o, i) => {
        if (i) out.push('');
        for (const l of o.lines) out.push(l);
      });
      out.push(line);
      head = null;
      objects = [];
    } else if (line !== '') {
      if (objects.length) return listing;
      head.push(line);
    }
  }
  return head === null && current === null ? out.join('\n') : listing;
}

function withoutState(listing: string): string {
  const out: string[] = [];
  let setLines: string[] | null = null;
  let skippingElements = false;
  for (const line of listing.split('\n')) {
    const text = line.replace(/counter packets \d+ bytes \d+/g, 'counter');
    if (skippingElements) {
      if (text.trimEnd().endsWith('}')) skippingElements = false;
      continue;
    }
    if (setLines) {
      const trimmed = text.trim();
      if (trimmed.startsWith('elements = {') && setLines.some((l) => /^\s*flags .*\bdynamic\b/.test(l))) {
        skippingElements = !trimmed.endsWith('}');
        continue;
      }
      setLines.push(text);
      if (trimmed === '}') {
        // One at a time: a listed map of 100,000 elements is too many arguments for one push().
        for (const l of setLines) out.push(l);
        setLines = null;
      }
      continue;
    }
    if (/^\s*(set|map) \S+ \{$/.test(text)) {
      setLines = [text];
      continue;
    }
    out.push(text);
  }
  if (setLines) for (const l of setLines) out.push(l);
  return out.join('\n').trimEnd() + '\n';
}
