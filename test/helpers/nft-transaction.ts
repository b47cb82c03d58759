/**
 * Comparing nft transactions as kube-proxy's own unit tests do
 * (sortNFTablesTransaction / assertNFTablesTransactionEqual in
 * pkg/proxy/nftables/proxier_test.go): blank and comment lines dropped,
 * objects sorted by kind and then name, each chain's rules kept in the order
 * added, elements and declarations sorted by their whole line.
 */

const KIND_ORDER: Record<string, number> = { table: 0, chain: 1, set: 2, map: 3, rule: 4, element: 5 };

export function sortTransaction(text: string): string[] {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    // The one notation difference: knftables joins anonymous set and map elements with " , ",
    // kpc with ", " (as nft lists them); nft reads both the same.
    .map((line) => line.replaceAll(' , ', ', '));
  const keyed = lines.map((line, index) => {
    const words = line.split(' ');
    return { line, index, kind: KIND_ORDER[words[1]!] ?? 9, name: words[4] ?? '' };
  });
  keyed.sort((a, b) => {
    if (a.kind !== b.kind) return a.kind - b.kind;
    if (a.name !== b.name) return a.name < b.name ? -1 : 1;
    if (a.kind === KIND_ORDER.rule) return a.index - b.index;
    return a.line < b.line ? -1 : a.line > b.line ? 1 : 0;
  });
  return keyed.map((k) => k.line);
}

/**
 * kpc's `nft -f` file as the flat lines knftables' fake dumps: kpc replaces
 * its table with `add table` + `delete table` before recreating it (knftables
 * flushes instead; neither line is an object), and writes each set's or map's
 * elements in one `add element ... {` block where knftables writes one line
 * per element.
 */
export function knftablesLines(text: string): string {
  const out: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^(add|delete) table \S+ \S+$/.test(line)) continue;
    const block = /^(add element \S+ \S+ \S+) \{$/.exec(line);
    if (!block) {
      out.push(line);
      continue;
    }
    for (i++; i < lines.length && lines[i] !== '}'; i++) out.push(`${block[1]} { ${lines[i]!.trim().replace(/,$/, '')} }`);
  }
  return out.join('\n');
}
