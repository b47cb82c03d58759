import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNft, parseNftStatements, type NftObjects } from '../../src/apply/nft-plan.js';
import { compileGraph, emit } from '../../src/compile.js';
import { generateCluster } from '../../bench/generate-cluster.js';
import { fixtureCases } from '../helpers/fixtures.js';

// parseNft reads the million-line files of 10,000 service ports in one pass,
// keeping runs of rule lines and element blocks as slices of the text; it
// must read every file exactly as the statement-by-statement reader does.

/** Objects with their rules and elements read, as plain data to compare. */
const read = (objects: NftObjects) =>
  [...objects].map(([key, table]) => ({
    key,
    decl: table.decl,
    chains: [...table.chains].map(([name, chain]) => ({ name, decl: chain.decl, rules: chain.rules.list() })),
    sets: [...table.sets].map(([name, set]) => ({ name, kind: set.kind, decl: set.decl, elements: set.elements.list() })),
  }));

describe('parseNft reads what the statement-by-statement reader reads', () => {
  const files = fixtureCases().flatMap((fixture) => ['nftables.nft', 'nftables-compact.nft'].map((file) => join(fixture.dir, 'expected', file)).filter(existsSync));

  it('every fixture, both layouts', () => {
    expect(files.length).toBeGreaterThan(40);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(read(parseNft(text)), file).toEqual(read(parseNftStatements(text)));
    }
  });

  it('a generated cluster, both layouts', () => {
    const cluster = generateCluster({ servicePorts: 300, endpointsPerPort: 4 });
    const graph = compileGraph([{ name: 'c.yaml', text: cluster.text }], { nodeName: cluster.node.name, nodeIPs: [cluster.node.ip], clusterCIDRs: [cluster.node.clusterCIDR] }).graph;
    for (const layout of ['kube-proxy', 'compact'] as const) {
      const text = emit(graph, { mode: 'nftables', family: 4, layout });
      expect(read(parseNft(text)), layout).toEqual(read(parseNftStatements(text)));
    }
  });

  it.each([
    ['elements several to a line, with quoted commas', 'add table ip t\nadd map ip t m { type ipv4_addr : verdict ; }\nadd chain ip t c\nadd element ip t m {\n\t10.0.0.1 comment "a, b" : goto c, 10.0.0.2 : goto c,\n  10.0.0.3   :  goto c\n}\n'],
    ['a block on one line, a rule over several lines', 'add table ip t\nadd set ip t s { type ipv4_addr ; }\nadd element ip t s { 10.0.0.1, 10.0.0.2 }\nadd chain ip t c\nadd rule ip t c ip daddr {\n  10.0.0.1,\n  10.0.0.2 } drop\nadd rule ip t c  counter\n'],
    ['runs broken by blank lines, comments, other chains and blanks at line ends', 'add table ip t\nadd chain ip t c\nadd chain ip t c2\nadd rule ip t c counter\nadd rule ip t c accept  \n\nadd rule ip t c drop\n# note\nadd rule ip t c2 drop\nadd rule ip t c reject\nadd rule ip t c \n add rule ip t c counter\nadd rule ip t c\nadd rule ip t c2 accept\nadd rule ip t c\tcounter\n'],
    ['braces on rule lines inside a run, quoted and not', 'add table ip t\nadd chain ip t c\nadd chain ip t d\nadd rule ip t c counter\nadd rule ip t c ip daddr vmap { 10.0.0.1 : goto d }\nadd rule ip t c counter comment "{"\nadd rule ip t c accept\n'],
    ['element blocks: empty, indented close, brackets, comment lines, odd quotes, a brace inside', 'add table ip t\nadd set ip t s { type ipv4_addr ; flags interval ; }\nadd map ip t m { type ipv4_addr : verdict ; }\nadd chain ip t c\nadd element ip t s {\n}\nadd element ip t s {\n\t10.0.0.0/8,\n  }\nadd element ip t s {\n\t[10.1.0.1],\n\t(10.2.0.1),\n}\nadd element ip t s {\n# x\n\t10.3.0.1,\n}\nadd element ip t m {\n\t10.4.0.1 comment "a, : goto c,\nb" : goto c,\n}\nadd element ip t m {\n\t10.5.0.1 : goto c, 10.5.0.2 comment "}" : goto c,\n}\nadd element ip t s {\n\t10.6.0.1,\n} \n'],
    ['a comment line inside a block, a tab in a rule', 'add table ip t\nadd set ip t s { type ipv4_addr ; }\nadd element ip t s {\n# note\n10.0.0.1,\n}\nadd chain ip t c\nadd rule ip t c\tcounter\n'],
  ])('%s', (_name, text) => {
    expect(read(parseNft(text))).toEqual(read(parseNftStatements(text)));
  });

  it('refuses what the other refuses', () => {
    expect(() => parseNft('add table ip t\nadd set ip t s { type ipv4_addr ; }\nadd element ip t s {\n10.0.0.1,\n')).toThrow(/ends inside/);
    expect(() => parseNft('add table ip t\nadd rule ip t nochain counter\n')).toThrow(/before the chain/);
    expect(() => parseNft('add table ip t\nadd element ip t nosuch {\n10.0.0.1,\n}\n')).toThrow(/before the set/);
    const trailing = 'add table ip t\nadd set ip t s { type ipv4_addr ; }\nadd element ip t s {\n10.0.0.1,\n}x\n}\n';
    expect(() => parseNftStatements(trailing)).toThrow(/not one/);
    expect(() => parseNft(trailing)).toThrow(/not one/);
  });
});
