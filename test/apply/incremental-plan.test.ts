import { describe, expect, it } from 'vitest';
import { MANY_CHAINS, parseRestore, planRestore } from '../../src/apply/iptables-plan.js';
import { elementChanges, elementKey, parseNft, parseNftStatements, planNft } from '../../src/apply/nft-plan.js';
import { assertOwnTablesOnly } from '../../src/apply/nftables.js';
import { withIptablesMarker } from '../../src/apply/generation.js';

// The incremental planners are pure: two generated texts in, one transaction out.

const head = `add table ip kube-proxy
delete table ip kube-proxy
add table ip kube-proxy { comment "rules for kube-proxy" ; }
add chain ip kube-proxy services
add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }
add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
`;

function nft(endpoints: Record<string, string[]>): string {
  let text = head;
  const elements: string[] = [];
  Object.entries(endpoints).forEach(([svc, eps], i) => {
    text += `add chain ip kube-proxy service-${svc}\n`;
    for (const ep of eps) text += `add chain ip kube-proxy endpoint-${svc}-${ep}\n`;
    text += `add rule ip kube-proxy service-${svc} numgen random mod ${eps.length} vmap { ${eps.map((ep, k) => `${k} : goto endpoint-${svc}-${ep}`).join(', ')} }\n`;
    for (const ep of eps) text += `add rule ip kube-proxy endpoint-${svc}-${ep} meta l4proto tcp dnat to ${ep}:80\n`;
    elements.push(`\t10.96.0.${i + 1} . tcp . 80 : goto service-${svc},`);
  });
  return text + `add element ip kube-proxy service-ips {\n${elements.join('\n')}\n}\n`;
}

describe('planNft', () => {
  it('says same for the same text', () => {
    const text = nft({ a: ['10.0.0.1'] });
    expect(planNft(parseNft(text), parseNft(text)).kind).toBe('same');
  });

  it('one endpoint changed: a new endpoint chain, the service chain rewritten, the old endpoint chain deleted after it is flushed', () => {
    const plan = planNft(parseNft(nft({ a: ['10.0.0.1', '10.0.0.2'], b: ['10.0.0.9'] })), parseNft(nft({ a: ['10.0.0.1', '10.0.0.3'], b: ['10.0.0.9'] })), 'MARKER\n');
    expect(plan.kind).toBe('incremental');
    if (plan.kind !== 'incremental') return;
    expect(plan.transaction).toBe(
      [
        'add chain ip kube-proxy endpoint-a-10.0.0.3',
        'flush chain ip kube-proxy service-a',
        'flush chain ip kube-proxy endpoint-a-10.0.0.2',
        'add rule ip kube-proxy service-a numgen random mod 2 vmap { 0 : goto endpoint-a-10.0.0.1, 1 : goto endpoint-a-10.0.0.3 }',
        'add rule ip kube-proxy endpoint-a-10.0.0.3 meta l4proto tcp dnat to 10.0.0.3:80',
        'delete chain ip kube-proxy endpoint-a-10.0.0.2',
        'MARKER',
        '',
      ].join('\n'),
    );
    expect(() => assertOwnTablesOnly(plan.transaction.replace('MARKER\n', ''))).not.toThrow();
  });

  it('a service removed: its element deleted (by key) before its chains go', () => {
    const plan = planNft(parseNft(nft({ a: ['10.0.0.1'], b: ['10.0.0.9'] })), parseNft(nft({ a: ['10.0.0.1'] })));
    if (plan.kind !== 'incremental') throw new Error(plan.kind);
    const lines = plan.transaction.split('\n');
    const unelement = lines.indexOf('delete element ip kube-proxy service-ips {');
    expect(lines[unelement + 1]).toBe('\t10.96.0.2 . tcp . 80,');
    expect(unelement).toBeLessThan(lines.indexOf('delete chain ip kube-proxy service-b'));
    expect(lines.indexOf('flush chain ip kube-proxy service-b')).toBeLessThan(lines.indexOf('delete chain ip kube-proxy service-b'));
  });

  it('a service added: chains first, rules next, the element last', () => {
    const plan = planNft(parseNft(nft({ a: ['10.0.0.1'] })), parseNft(nft({ a: ['10.0.0.1'], b: ['10.0.0.9'] })));
    if (plan.kind !== 'incremental') throw new Error(plan.kind);
    const lines = plan.transaction.split('\n');
    expect(lines.indexOf('add chain ip kube-proxy service-b')).toBeLessThan(lines.indexOf('add rule ip kube-proxy endpoint-b-10.0.0.9 meta l4proto tcp dnat to 10.0.0.9:80'));
    expect(lines.indexOf('add element ip kube-proxy service-ips {')).toBeGreaterThan(lines.findIndex((l) => l.startsWith('add rule')));
    expect(lines).toContain('\t10.96.0.2 . tcp . 80 : goto service-b,');
    expect(plan.transaction).not.toContain('delete');
  });

  it('a map element whose verdict changed is deleted by key and added again', () => {
    const before = head + 'add chain ip kube-proxy x\nadd chain ip kube-proxy y\nadd element ip kube-proxy service-ips { 10.96.0.1 . tcp . 80 : goto x }\n';
    const plan = planNft(parseNft(before), parseNft(before.replace(': goto x', ': goto y')));
    if (plan.kind !== 'incremental') throw new Error(plan.kind);
    expect(plan.transaction).toBe('delete element ip kube-proxy service-ips {\n\t10.96.0.1 . tcp . 80,\n}\nadd element ip kube-proxy service-ips {\n\t10.96.0.1 . tcp . 80 : goto y,\n}\n');
  });

  it('a changed declaration (a set type, a base chain hook, a new table family) means a full load', () => {
    const text = nft({ a: ['10.0.0.1'] });
    expect(planNft(parseNft(text), parseNft(text.replace('inet_service : verdict', 'inet_service : verdict ; flags interval')))).toMatchObject({ kind: 'full' });
    expect(planNft(parseNft(text), parseNft(text.replace('add chain ip kube-proxy services', 'add chain ip kube-proxy services { type nat hook output priority -100 ; }')))).toMatchObject({ kind: 'full' });
    expect(planNft(parseNft(text), parseNft(text + 'add table ip6 kube-proxy\n'))).toMatchObject({ kind: 'full' });
  });

  it('a set added and one deleted: added with the new chains, deleted last', () => {
    const plan = planNft(parseNft(head + 'add set ip kube-proxy old { type ipv4_addr ; }\n'), parseNft(head + 'add set ip kube-proxy new { type ipv4_addr ; }\nadd element ip kube-proxy new { 10.0.0.1 }\n'));
    if (plan.kind !== 'incremental') throw new Error(plan.kind);
    expect(plan.transaction).toBe('add set ip kube-proxy new { type ipv4_addr ; }\nadd element ip kube-proxy new {\n\t10.0.0.1,\n}\ndelete set ip kube-proxy old\n');
  });

  it('elementKey stops at the map colon, not inside quotes', () => {
    expect(elementKey('10.0.0.1 . tcp . 80 : goto s')).toBe('10.0.0.1 . tcp . 80');
    expect(elementKey('10.0.0.1 comment "a : b"')).toBe('10.0.0.1 comment "a : b"');
  });
});

const ipt = (svcRules: string[], extraChain = true) =>
  [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    '-A INPUT -j KUBE-SERVICES',
    'COMMIT',
    '*nat',
    ':OUTPUT ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-SVC-A - [0:0]',
    ...(extraChain ? [':KUBE-SEP-OLD - [0:0]'] : []),
    '-A OUTPUT -j KUBE-SERVICES',
    '-A KUBE-SERVICES -d 10.96.0.1/32 -j KUBE-SVC-A',
    ...svcRules.map((r) => `-A KUBE-SVC-A ${r}`),
    ...(extraChain ? ['-A KUBE-SEP-OLD -j DNAT --to-destination 10.0.0.1:80'] : []),
    'COMMIT',
    '',
  ].join('\n');

describe('planRestore', () => {
  it('declares and rewrites only the changed chain, deletes the stale one after, and adds the marker lines per table', () => {
    const plan = planRestore(parseRestore(ipt(['-j KUBE-SEP-OLD'])), parseRestore(ipt(['-j KUBE-SEP-NEW'], false).replace(':KUBE-SVC-A - [0:0]', ':KUBE-SVC-A - [0:0]\n:KUBE-SEP-NEW - [0:0]').replace(/COMMIT\n$/, '-A KUBE-SEP-NEW -j DNAT --to-destination 10.0.0.2:80\nCOMMIT\n')), (t) => [`#m ${t}`]);
    if (plan.kind !== 'incremental') throw new Error(plan.kind);
    expect(plan.restore).toBe(
      [
        '*filter',
        '#m filter',
        'COMMIT',
        '*nat',
        ':KUBE-SVC-A - [0:0]',
        ':KUBE-SEP-NEW - [0:0]',
        ':KUBE-SEP-OLD - [0:0]',
        '-A KUBE-SVC-A -j KUBE-SEP-NEW',
        '-A KUBE-SEP-NEW -j DNAT --to-destination 10.0.0.2:80',
        '-X KUBE-SEP-OLD',
        '#m nat',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('same text: same; a changed built-in chain rule: full', () => {
    const text = ipt(['-j KUBE-SEP-OLD']);
    expect(planRestore(parseRestore(text), parseRestore(text)).kind).toBe('same');
    expect(planRestore(parseRestore(text), parseRestore(text.replace('-A INPUT -j KUBE-SERVICES', '-A INPUT -m comment --comment x -j KUBE-SERVICES')))).toMatchObject({ kind: 'full' });
  });

  it('many chains at once: the restore opens the table with -S (iptables-nft parses it in linear time) and creates them in scattered order; a few: neither', () => {
    const table = (n: number) => `*nat\n${Array.from({ length: n }, (_, i) => `:KUBE-SEP-${String(i).padStart(5, '0')} - [0:0]`).join('\n')}\n${Array.from({ length: n }, (_, i) => `-A KUBE-SEP-${String(i).padStart(5, '0')} -j DNAT --to-destination 10.0.${i >> 8}.${i & 255}:80`).join('\n')}\nCOMMIT\n`;
    const empty = parseRestore('*nat\nCOMMIT\n');
    const many = planRestore(empty, parseRestore(table(MANY_CHAINS)));
    if (many.kind !== 'incremental') throw new Error(many.kind);
    const lines = many.restore.split('\n');
    expect(lines.slice(0, 2)).toEqual(['*nat', '-S']);
    const declared = lines.filter((l) => l.startsWith(':'));
    expect(declared).toHaveLength(MANY_CHAINS);
    expect(declared).not.toEqual([...declared].sort());
    const few = planRestore(empty, parseRestore(table(3)));
    if (few.kind !== 'incremental') throw new Error(few.kind);
    expect(few.restore).not.toContain('\n-S\n');
    expect(few.restore.split('\n').filter((l) => l.startsWith(':'))).toEqual([':KUBE-SEP-00000 - [0:0]', ':KUBE-SEP-00001 - [0:0]', ':KUBE-SEP-00002 - [0:0]']);
  });

  it('the marker goes into filter and nat before their COMMIT', () => {
    expect(withIptablesMarker('*filter\nCOMMIT\n*mangle\nCOMMIT\n', 'h')).toBe('*filter\n:KUBE-KPC-GENERATION - [0:0]\n-A KUBE-KPC-GENERATION -m comment --comment "kpc h" -j RETURN\nCOMMIT\n*mangle\nCOMMIT\n');
  });
});

describe('elementChanges', () => {
  const list = (n: number) => Array.from({ length: n }, (_, i) => `10.96.${i >> 8}.${i & 255} . tcp . 80 : 10.244.0.${i % 250} . 80`);

  it('finds what went and what came, wherever in the list, as set differences do', () => {
    const before = list(1000);
    const after = [...before];
    after.splice(500, 1, 'new-middle');
    after.unshift('new-first');
    after.push('new-last');
    after.splice(after.indexOf(before[10]!), 1);
    expect(elementChanges(before, after)).toEqual({ gone: [before[10], before[500]], added: ['new-first', 'new-middle', 'new-last'] });
  });

  it('an element that moved is neither gone nor added; equal lists and empty ones give nothing', () => {
    const before = list(20);
    const after = [before[19]!, ...before.slice(0, 19)];
    expect(elementChanges(before, after)).toEqual({ gone: [], added: [] });
    expect(elementChanges(before, [...before])).toEqual({ gone: [], added: [] });
    expect(elementChanges([], ['a'])).toEqual({ gone: [], added: ['a'] });
    expect(elementChanges(['a'], [])).toEqual({ gone: ['a'], added: [] });
  });

  it('agrees with plain set differences on random edits', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 200; round++) {
      const before = list(Math.floor(random() * 60));
      const after = before.filter(() => random() > 0.1);
      for (let k = Math.floor(random() * 4); k > 0; k--) after.splice(Math.floor(random() * (after.length + 1)), 0, `added-${round}-${k}`);
      const had = new Set(before);
      const has = new Set(after);
      const { gone, added } = elementChanges(before, after);
      expect(new Set(gone)).toEqual(new Set(before.filter((e) => !has.has(e))));
      expect(new Set(added)).toEqual(new Set(after.filter((e) => !had.has(e))));
    }
  });
});

describe('planNft on element blocks compared as text', () => {
  const table = (elements: string[]) => `add table ip t\nadd chain ip t c\nadd map ip t m { type ipv4_addr . inet_proto . inet_service : verdict ; }\nadd element ip t m {\n${elements.map((e) => `\t${e},`).join('\n')}\n}\n`;
  const element = (i: number) => `10.96.${i >> 8}.${i & 255} . tcp . 80 : goto c`;

  it('plans what reading every element plans, on random edits', () => {
    let seed = 3;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 300; round++) {
      const before = Array.from({ length: Math.floor(random() * 40) }, (_, i) => element(i));
      const after = before.filter(() => random() > 0.1);
      for (let k = Math.floor(random() * 4); k > 0; k--) after.splice(Math.floor(random() * (after.length + 1)), 0, element(1000 + round * 4 + k));
      const [a, b] = [table(before), table(after)];
      expect(planNft(parseNft(a), parseNft(b)), JSON.stringify({ before, after })).toEqual(planNft(parseNftStatements(a), parseNftStatements(b)));
    }
  });
});
