import { describe, expect, it } from 'vitest';
import { generateCluster } from '../../../bench/generate-cluster.js';
import { compileGraph, type Mode } from '../../../src/compile.js';
import type { IPFamily } from '../../../src/graph/types.js';
import { compileFixture, fixtureCases, render } from '../../helpers/fixtures.js';

/**
 * Table.declare writes a declaration each time it is called: the emitters
 * declare every chain once. This holds them to it on every fixture and on a
 * generated cluster of all Service kinds, in both families.
 */

/** `:CHAIN` lines declared twice within one table (`*nat`, `*filter`) of an iptables-restore script (IPVS mode's bundle holds one). */
function repeatedDeclarations(script: string): string[] {
  const repeats: string[] = [];
  let declared = new Set<string>();
  for (const line of script.split('\n')) {
    if (line.startsWith('*')) declared = new Set();
    if (!line.startsWith(':')) continue;
    const chain = line.slice(1, line.indexOf(' '));
    if (declared.has(chain)) repeats.push(chain);
    declared.add(chain);
  }
  return repeats;
}

describe('chain declarations', () => {
  it('finds a repeat (the check itself)', () => {
    expect(repeatedDeclarations('*nat\n:A - [0:0]\n:B - [0:0]\n:A - [0:0]\nCOMMIT\n*filter\n:A - [0:0]\nCOMMIT\n')).toEqual(['A']);
  });

  for (const fixture of fixtureCases()) {
    it(`declares each chain once per table: fixture ${fixture.name}`, async () => {
      const graph = await compileFixture(fixture);
      for (const mode of ['iptables', 'ipvs'] as Mode[]) {
        for (const family of [4, 6] as IPFamily[]) {
          expect(repeatedDeclarations(render(graph, mode, family))).toEqual([]);
        }
      }
    });
  }

  it('declares each chain once per table: a generated cluster of 400 service ports', () => {
    const cluster = generateCluster({ servicePorts: 400, seed: 11 });
    const { graph } = compileGraph([{ name: 'cluster.yaml', text: cluster.text }], {
      nodeName: cluster.node.name,
      nodeIPs: [cluster.node.ip],
      clusterCIDRs: [cluster.node.clusterCIDR],
    });
    for (const mode of ['iptables', 'ipvs'] as Mode[]) {
      expect(repeatedDeclarations(render(graph, mode, 4))).toEqual([]);
    }
  });
});
