import { describe, expect, it } from 'vitest';
import { generateCluster } from '../../bench/generate-cluster.js';
import { compileGraph, type Mode } from '../../src/compile.js';
import type { IPFamily, RoutingGraph } from '../../src/graph/types.js';
import { compileFixture, fixtureCases, render } from '../helpers/fixtures.js';

/**
 * The tables (src/emit/iptables/table.ts, src/emit/nftables/table.ts) write
 * a declaration each time they are asked: the emitters declare every chain
 * once. This holds them to it on every fixture and on a generated cluster of
 * all Service kinds, in every mode and family.
 */

/**
 * Chains declared twice within one table: `:CHAIN` lines between `*table`
 * lines of an iptables-restore script (IPVS mode's bundle holds one), or
 * `add chain FAMILY TABLE NAME` lines of an nft -f file.
 */
function repeatedChains(rules: string): string[] {
  const repeats: string[] = [];
  let declared = new Set<string>();
  for (const line of rules.split('\n')) {
    if (line.startsWith('*')) declared = new Set();
    const chain = line.startsWith(':') ? line.slice(1, line.indexOf(' ')) : /^add chain (\S+ \S+ \S+)/.exec(line)?.[1];
    if (chain === undefined) continue;
    if (declared.has(chain)) repeats.push(chain);
    declared.add(chain);
  }
  return repeats;
}

const RENDERINGS: [Mode, IPFamily][] = [
  ['iptables', 4],
  ['iptables', 6],
  ['ipvs', 4],
  ['ipvs', 6],
  ['nftables', 4],
];

function expectEachChainOnce(graph: RoutingGraph): void {
  for (const [mode, family] of RENDERINGS) expect(repeatedChains(render(graph, mode, family)), `${mode} IPv${family}`).toEqual([]);
}

describe('chain declarations', () => {
  it('the check finds repeats in both formats', () => {
    expect(repeatedChains('*nat\n:A - [0:0]\n:B - [0:0]\n:A - [0:0]\nCOMMIT\n*filter\n:A - [0:0]\nCOMMIT\n')).toEqual(['A']);
    expect(repeatedChains('add chain ip kube-proxy a\nadd chain ip6 kube-proxy a\nadd chain ip kube-proxy a { comment "x" ; }\n')).toEqual(['ip kube-proxy a']);
  });

  for (const fixture of fixtureCases()) {
    it(`are made once per chain: fixture ${fixture.name}`, async () => expectEachChainOnce(await compileFixture(fixture)));
  }

  it('are made once per chain: a generated cluster of 400 service ports', () => {
    const cluster = generateCluster({ servicePorts: 400, seed: 11 });
    const sources = [{ name: 'cluster.yaml', text: cluster.text }];
    expectEachChainOnce(compileGraph(sources, { nodeName: cluster.node.name, nodeIPs: [cluster.node.ip], clusterCIDRs: [cluster.node.clusterCIDR] }).graph);
  });
});
