import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFixture, fixtureCases, render, renderDns, renderSimulated, type FixtureCase } from './helpers/fixtures.js';

/**
 * Golden files catch change; the kernel tests prove behaviour. Regenerate on
 * purpose only: KPC_UPDATE_GOLDEN=1 npm run golden:update
 */
const UPDATE = process.env.KPC_UPDATE_GOLDEN === '1';

type Graph = Parameters<typeof render>[0];

const OUTPUTS: { file: string; render: (g: Graph, fixture: FixtureCase) => string | Promise<string>; when?: (g: Graph) => boolean }[] = [
  { file: 'iptables.rules', render: (g: Parameters<typeof render>[0]) => render(g, 'iptables', 4) },
  { file: 'nftables.nft', render: (g: Parameters<typeof render>[0]) => render(g, 'nftables') },
  { file: 'nftables-compact.nft', render: (g: Parameters<typeof render>[0]) => render(g, 'nftables', 4, 'compact') },
  { file: 'ipvs.txt', render: (g: Parameters<typeof render>[0]) => render(g, 'ipvs') },
  { file: 'ip6tables.rules', render: (g: Parameters<typeof render>[0]) => render(g, 'iptables', 6), when: (g: Parameters<typeof render>[0]) => g.servicePorts.some((p) => p.family === 6) },
  // kpc dns: only where the fixture has Services (headless and ExternalName ones count).
  { file: 'dns.zone', render: (_g, fixture) => renderDns(fixture), when: (g) => g.servicePorts.length > 0 || g.skipped.length > 0 },
  // kpc simulate: the completed objects of fixtures compiled with --simulate.
  { file: 'simulated.yaml', render: (_g, fixture) => renderSimulated(fixture), when: (g) => g.simulated === true },
];

describe('golden files', () => {
  for (const fixture of fixtureCases()) {
    describe(fixture.name, () => {
      for (const output of OUTPUTS) {
        it(output.file, async () => {
          const graph = await compileFixture(fixture);
          if (output.when && !output.when(graph)) return;
          const actual = await output.render(graph, fixture);
          const path = join(fixture.dir, 'expected', output.file);
          if (UPDATE) {
            mkdirSync(join(fixture.dir, 'expected'), { recursive: true });
            writeFileSync(path, actual);
            return;
          }
          expect(existsSync(path), `${path} is missing; run npm run golden:update and review it`).toBe(true);
          expect(actual).toBe(readFileSync(path, 'utf8'));
        });
      }
    });
  }
});
