import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRestore, planRestore } from '../../src/apply/iptables-plan.js';
import { planRestoreText, SEARCHED_CHAINS } from '../../src/apply/iptables-text-plan.js';
import { compileGraph, emit } from '../../src/compile.js';
import { generateCluster } from '../../bench/generate-cluster.js';
import { oneEndpointChanged } from '../../bench/incremental-apply.js';
import { fixtureCases } from '../helpers/fixtures.js';

// planRestoreText must plan exactly what planRestore plans from the texts read whole.

const marker = (table: string) => [`#m ${table}`];
const byParsing = (a: string, b: string) => planRestore(parseRestore(a), parseRestore(b), marker);
const expectSamePlan = (a: string, b: string, what: string) => {
  const plan = planRestoreText(a, b, marker);
  const reference = byParsing(a, b);
  expect(plan, what).not.toBeNull();
  if (reference.kind === 'full') expect(plan!.kind, what).toBe('full');
  else expect(plan, what).toEqual(reference);
};

const cluster = (servicePorts: number, change: (text: string) => string = (t) => t) => {
  const c = generateCluster({ servicePorts, endpointsPerPort: 3 });
  const graph = compileGraph([{ name: 'c.yaml', text: change(c.text) }], { nodeName: c.node.name, nodeIPs: [c.node.ip], clusterCIDRs: [c.node.clusterCIDR] }).graph;
  return emit(graph, { mode: 'iptables', family: 4 });
};

describe('planRestoreText plans what planRestore plans', () => {
  it('generated clusters: an endpoint changed, services added and removed, the same text', () => {
    const base = cluster(200);
    for (const [what, other] of [
      ['same', base],
      ['one endpoint changed', cluster(200, oneEndpointChanged)],
      ['services added', cluster(215)],
      ['services removed', cluster(185)],
    ] as const) {
      expectSamePlan(base, other, what);
      expectSamePlan(other, base, `${what}, back`);
    }
  });

  it('every pair of fixtures (most are full loads)', () => {
    const texts = fixtureCases().map((f) => readFileSync(join(f.dir, 'expected', 'iptables.rules'), 'utf8'));
    for (const [i, a] of texts.entries()) for (const b of texts.slice(i, i + 4)) expectSamePlan(a, b, `fixture ${i}`);
  });

  it('random edits of the text: rules changed, dropped, copied and swapped; chains added and removed', () => {
    const base = cluster(40);
    let seed = 5;
    const random = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
    for (let round = 0; round < 300; round++) {
      const lines = base.split('\n');
      const nat = lines.indexOf('*nat');
      const firstRule = lines.findIndex((l, i) => i > nat && l.startsWith('-A '));
      const end = lines.lastIndexOf('COMMIT');
      const rule = () => firstRule + random(end - firstRule);
      for (let k = 1 + random(4); k > 0; k--) {
        const at = rule();
        const owned = lines[at]!.startsWith('-A KUBE-');
        switch (random(6)) {
          case 0:
            if (owned) lines[at] += ' -m comment --comment x';
            break;
          case 1:
            if (owned) lines.splice(at, 1);
            break;
          case 2:
            if (owned) lines.splice(rule(), 0, lines[at]!);
            break;
          case 3:
            if (owned && lines[at + 1]?.startsWith('-A KUBE-')) [lines[at], lines[at + 1]] = [lines[at + 1]!, lines[at]!];
            break;
          case 4: {
            const name = `KUBE-SEP-NEW${round}X${k}`;
            lines.splice(rule(), 0, `-A ${name} -j DNAT --to-destination 10.9.9.${k}:80`);
            lines.splice(nat + 1 + random(firstRule - nat - 1), 0, `:${name} - [0:0]`);
            break;
          }
          case 5: {
            const name = lines[at]!.split(' ')[1]!;
            if (!name.startsWith('KUBE-SEP-')) break;
            for (let i = lines.length - 1; i >= 0; i--) if (lines[i] === `:${name} - [0:0]` || lines[i]!.startsWith(`-A ${name} `)) lines.splice(i, 1);
            break;
          }
        }
      }
      const edited = lines.join('\n');
      expectSamePlan(base, edited, `round ${round}`);
      expectSamePlan(edited, base, `round ${round}, back`);
    }
  });

  it('a built-in chain changed: full; a text laid out otherwise: null (the caller reads it whole)', () => {
    const base = cluster(10);
    expect(planRestoreText(base, base.replace(/^-A PREROUTING /m, '-A PREROUTING -m comment --comment x '))).toMatchObject({ kind: 'full' });
    expect(planRestoreText(base, base.replace('\n-A KUBE-SERVICES ', '\n# a note\n-A KUBE-SERVICES '))).toBeNull();
    expect(planRestoreText(base, base.replace(/\nCOMMIT\n$/, '\n:KUBE-LATE - [0:0]\nCOMMIT\n'))).toBeNull();
    expect(planRestoreText(base, base.replace(/\nCOMMIT\n$/, '\nCOMMIT'))).toBeNull();
    // Many changed chains: one search of the text each would cost more than reading it whole.
    expect(planRestoreText(cluster(10), cluster(10 + SEARCHED_CHAINS))).toBeNull();
    expect(planRestoreText(base, base.replace('*nat\n', '*nat\n# a note\n'))).toBeNull();
    expect(planRestoreText(base, base.replace('\n:KUBE-SERVICES - [0:0]\n', '\n:KUBE-SERVICES - [0:0]\n\n'))).toBeNull();
  });
});
