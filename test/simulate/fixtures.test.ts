import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFixture, fixtureCases, render, type FixtureCase } from '../helpers/fixtures.js';

/** The fixture's flags without --simulate and the flags that only mean something with it. */
function withoutSimulate(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--simulate') continue;
    if (['--simulate-nodes', '--load-balancer-pool', '--service-node-port-range'].includes(args[i]!)) i++;
    else out.push(args[i]!);
  }
  return out;
}

const simulated = fixtureCases().filter((f) => f.args.includes('--simulate'));

describe('kpc simulate output read back', () => {
  it('has fixtures made from real charts', () => {
    expect(simulated.map((f) => f.name)).toEqual(expect.arrayContaining(['chart-metallb', 'chart-microservices-demo']));
  });

  for (const fixture of simulated) {
    it(`${fixture.name}: its simulated.yaml compiles without --simulate to the same rules in every mode`, async () => {
      const readBack: FixtureCase = { ...fixture, inputs: [join(fixture.dir, 'expected', 'simulated.yaml')], args: withoutSimulate(fixture.args) };
      const graph = await compileFixture(readBack);
      expect(render(graph, 'iptables', 4)).toBe(readFileSync(join(fixture.dir, 'expected', 'iptables.rules'), 'utf8'));
      expect(render(graph, 'nftables')).toBe(readFileSync(join(fixture.dir, 'expected', 'nftables.nft'), 'utf8'));
      expect(render(graph, 'ipvs')).toBe(readFileSync(join(fixture.dir, 'expected', 'ipvs.txt'), 'utf8'));
    });
  }
});
