import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRestore, type RestoreFile } from '../../src/apply/iptables-plan.js';
import { compileGraph, emit } from '../../src/compile.js';
import { generateCluster } from '../../bench/generate-cluster.js';
import { fixtureCases } from '../helpers/fixtures.js';

// parseRestore keeps runs of one chain's rules as slices of the text; it must
// read every file as this line-by-line reference does.

function reference(text: string): { table: string; chains: { name: string; policy: string; rules: string[] }[] }[] {
  const tables: { table: string; chains: Map<string, { policy: string; rules: string[] }> }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const current = tables[tables.length - 1];
    if (line === '' || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith('*')) tables.push({ table: line.slice(1), chains: new Map() });
    else if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(' ');
      if (!current!.chains.has(name!)) current!.chains.set(name!, { policy: policy ?? '-', rules: [] });
    } else {
      const space = line.indexOf(' ', 3);
      current!.chains.get(space < 0 ? line.slice(3) : line.slice(3, space))!.rules.push(space < 0 ? '' : line.slice(space + 1));
    }
  }
  return tables.map(({ table, chains }) => ({ table, chains: [...chains].map(([name, chain]) => ({ name, ...chain })) }));
}

const read = (file: RestoreFile) => [...file].map(([table, { chains }]) => ({ table, chains: [...chains].map(([name, chain]) => ({ name, policy: chain.policy, rules: chain.rules.list() })) }));

describe('parseRestore reads what a line-by-line reader reads', () => {
  it('every fixture, both families', () => {
    const files = fixtureCases().flatMap((fixture) => ['iptables.rules', 'ip6tables.rules'].map((file) => join(fixture.dir, 'expected', file)).filter(existsSync));
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(read(parseRestore(text)), file).toEqual(reference(text));
    }
  });

  it('a generated cluster', () => {
    const cluster = generateCluster({ servicePorts: 300, endpointsPerPort: 4 });
    const graph = compileGraph([{ name: 'c.yaml', text: cluster.text }], { nodeName: cluster.node.name, nodeIPs: [cluster.node.ip], clusterCIDRs: [cluster.node.clusterCIDR] }).graph;
    const text = emit(graph, { mode: 'iptables', family: 4 });
    expect(read(parseRestore(text))).toEqual(reference(text));
  });

  it('runs broken by comments, blank lines and other chains; blanks at line ends; a chain whose name starts another', () => {
    const text = ['*nat', ':A - [0:0]', ':AB - [0:0]', ':C ', ':D  -', ':E\t- [0:0]', ':F -', '-A A -j RETURN', '-A A -j DROP  ', '# x', '-A A -j ACCEPT', '-A AB -j DROP', '', '-A A -m comment --comment "a b"', '-A A', '-A A ', '-A AB -j RETURN', 'COMMIT', ''].join('\n');
    expect(read(parseRestore(text))).toEqual(reference(text));
  });
});
