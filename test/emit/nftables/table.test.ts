import { describe, expect, it } from 'vitest';
import { generateCluster } from '../../../bench/generate-cluster.js';
import { compileGraph } from '../../../src/compile.js';
import { compileFixture, fixtureCases, render } from '../../helpers/fixtures.js';

/**
 * NftTable.chain writes a declaration each time it is called: the emitter
 * declares every chain once. This holds it to that on every fixture and on a
 * generated cluster of all Service kinds.
 */

/** Chains an nft -f file adds twice within one table (`add chain FAMILY TABLE NAME`). */
function repeatedChains(ruleset: string): string[] {
  const repeats: string[] = [];
  const declared = new Set<string>();
  for (const line of ruleset.split('\n')) {
    const match = /^add chain (\S+ \S+ \S+)/.exec(line);
    if (!match) continue;
    if (declared.has(match[1]!)) repeats.push(match[1]!);
    declared.add(match[1]!);
  }
  return repeats;
}

describe('chain declarations', () => {
  it('finds a repeat (the check itself)', () => {
    expect(repeatedChains('add chain ip kube-proxy a\nadd chain ip6 kube-proxy a\nadd chain ip kube-proxy a { comment "x" ; }\n')).toEqual(['ip kube-proxy a']);
  });

  for (const fixture of fixtureCases()) {
    it(`declares each chain once per table: fixture ${fixture.name}`, async () => {
      expect(repeatedChains(render(await compileFixture(fixture), 'nftables'))).toEqual([]);
    });
  }

  it('declares each chain once per table: a generated cluster of 400 service ports', () => {
    const cluster = generateCluster({ servicePorts: 400, seed: 11 });
    const { graph } = compileGraph([{ name: 'cluster.yaml', text: cluster.text }], {
      nodeName: cluster.node.name,
      nodeIPs: [cluster.node.ip],
      clusterCIDRs: [cluster.node.clusterCIDR],
    });
    expect(repeatedChains(render(graph, 'nftables'))).toEqual([]);
  });
});
