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

const COMMAND = /^(add|delete) (table|chain|rule|set|map|element) (ip6?) kube-proxy(?: |$)/;

/**
 * A last structural guard before a file is handed to nft as root: every
 * command must name one of kpc's own tables. Validation already makes this
 * true; if it ever is not, no byte of the file reaches the kernel.
 */
export function assertOwnTablesOnly(script: string): void {
  let inBlock = 0;
  script.split('\n').forEach((line, i) => {
    if (inBlock > 0) {
      inBlock += count(line, '{') - count(line, '}');
      return;
    }
    if (line === '' || line.startsWith('#')) return;
    if (!COMMAND.test(line)) throw new Error(`line ${i + 1} of the nftables input does not address kpc's own kube-proxy table: ${JSON.stringify(line.slice(0, 120))}`);
    // A multi-line element list: continuation lines until its braces close.
    inBlock = Math.max(0, count(line, '{') - count(line, '}'));
  });
  if (inBlock !== 0) throw new Error('the nftables input ends inside a { } block');
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
 * counter values are state, not rules.
 */
export function normalizeListing(listing: string): string {
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
        out.push(...setLines);
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
  if (setLines) out.push(...setLines);
  return out.join('\n').trimEnd() + '\n';
}
