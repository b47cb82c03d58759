import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNft, parseNftStatements } from '../../src/apply/nft-plan.js';
import { compileGraph, emit } from '../../src/compile.js';
import { generateCluster } from '../../bench/generate-cluster.js';
import { fixtureCases } from '../helpers/fixtures.js';

// parseNft reads the million-line files of 10,000 service ports in one pass,
// rule lines and one-element-a-line blocks directly; it must read every file
// exactly as the statement-by-statement reader does.

describe('parseNft reads what the statement-by-statement reader reads', () => {
  const files = fixtureCases().flatMap((fixture) => ['nftables.nft', 'nftables-compact.nft'].map((file) => join(fixture.dir, 'expected', file)).filter(existsSync));

  it('every fixture, both layouts', () => {
    expect(files.length).toBeGreaterThan(40);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(parseNft(text), file).toEqual(parseNftStatements(text));
    }
  });

  it('a generated cluster, both layouts', () => {
    const cluster = generateCluster({ servicePorts: 300, endpointsPerPort: 4 });
    const graph = compileGraph([{ name: 'c.yaml', text: cluster.text }], { nodeName: cluster.node.name, nodeIPs: [cluster.node.ip], clusterCIDRs: [cluster.node.clusterCIDR] }).graph;
    for (const layout of ['kube-proxy', 'compact'] as const) {
      const text = emit(graph, { mode: 'nftables', family: 4, layout });
      expect(parseNft(text), layout).toEqual(parseNftStatements(text));
    }
  });

  it.each([
    ['elements several to a line, with quoted commas', 'add table ip t\nadd map ip t m { type ipv4_addr : verdict ; }\nadd chain ip t c\nadd element ip t m {\n\t10.0.0.1 comment "a, b" : goto c, 10.0.0.2 : goto c,\n  10.0.0.3   :  goto c\n}\n'],
    ['a block on one line, a rule over several lines', 'add table ip t\nadd set ip t s { type ipv4_addr ; }\nadd element ip t s { 10.0.0.1, 10.0.0.2 }\nadd chain ip t c\nadd rule ip t c ip daddr {\n  10.0.0.1,\n  10.0.0.2 } drop\nadd rule ip t c  counter\n'],
    ['a comment line inside a block, a tab in a rule', 'add table ip t\nadd set ip t s { type ipv4_addr ; }\nadd element ip t s {\n# note\n10.0.0.1,\n}\nadd chain ip t c\nadd rule ip t c\tcounter\n'],
  ])('%s', (_name, text) => {
    expect(parseNft(text)).toEqual(parseNftStatements(text));
  });

  it('refuses what the other refuses', () => {
    expect(() => parseNft('add table ip t\nadd set ip t s { type ipv4_addr ; }\nadd element ip t s {\n10.0.0.1,\n')).toThrow(/ends inside/);
    expect(() => parseNft('add table ip t\nadd rule ip t nochain counter\n')).toThrow(/before the chain/);
    expect(() => parseNft('add table ip t\nadd element ip t nosuch {\n10.0.0.1,\n}\n')).toThrow(/before the set/);
  });
});
