import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readRuleSet } from '../../src/read/index.js';
import { sortTransaction } from '../helpers/nft-transaction.js';
import { compileFixture, fixtureCases, render } from '../helpers/fixtures.js';
import { plain } from '../helpers/model.js';
import { describeKernel } from './harness.js';
import { withNetns } from './netns.js';

/** What the kernel prints back after loading kpc's output reads as the same rule set. */
describeKernel('kernel round trip: load, dump, read back', () => {
  for (const fixture of fixtureCases()) {
    it(`${fixture.name}: iptables-save and nft list read back to the model kpc wrote`, async () => {
      const graph = await compileFixture(fixture);
      await withNetns(async (exec) => {
        for (const [family, restore, save] of [[4, 'iptables-restore', 'iptables-save'], [6, 'ip6tables-restore', 'ip6tables-save']] as const) {
          const text = render(graph, 'iptables', family);
          expect((await exec([restore], text)).exitCode).toBe(0);
          const dumped = (await exec([save])).stdout;
          expect(plain(readRuleSet(dumped))).toEqual(plain(readRuleSet(text)));
        }
        const nft = render(graph, 'nftables');
        expect((await exec(['nft', '-f', '-'], nft)).exitCode).toBe(0);
        // execa drops each listing's last newline; join them so the second table starts on its own line.
        const listed = [(await exec(['nft', 'list', 'table', 'ip', 'kube-proxy'])).stdout, (await exec(['nft', 'list', 'table', 'ip6', 'kube-proxy'])).stdout].join('\n');
        const written = readRuleSet(nft);
        expect(plain(readRuleSet(listed))).toEqual(plain(written));
        expect(readRuleSet(listed).unallocatedDrop).toEqual(written.unallocatedDrop);
      });
    });
  }

  const TEST = join(import.meta.dirname, '..');
  const layouts = [
    { name: "kube-proxy's layout before kubernetes#132456 (kpc's earlier output)", file: join(TEST, 'read', 'fixtures', 'nftables-before-132456.nft'), nodeMeetsVerdict: 2 },
    { name: 'a published `nft list` of kube-proxy 1.36 (DNAT maps, hairpin set)', file: join(TEST, 'read', 'fixtures', 'nftables-kube-proxy-1.36-listed.nft'), nodeMeetsVerdict: 0 },
    // In kube-proxy's sort order (kinds, then names), which declares every chain before a rule jumps to it.
    { name: "kube-proxy's own expected dump for TestOverallNFTablesRules", file: join(TEST, 'emit', 'kube-proxy-cases', 'overall-nftables-rules', 'expected.nft'), nodeMeetsVerdict: 0, sorted: true },
  ];
  for (const layout of layouts) {
    it(`${layout.name}: loads, and nft list reads back to the same model`, async () => {
      const raw = readFileSync(layout.file, 'utf8');
      const text = layout.sorted ? `${sortTransaction(raw).join('\n')}\n` : raw;
      await withNetns(async (exec) => {
        const loaded = await exec(['nft', '-f', '-'], text);
        expect(loaded.stderr).toBe('');
        expect(loaded.exitCode).toBe(0);
        const listed = readRuleSet((await exec(['nft', 'list', 'table', 'ip', 'kube-proxy'])).stdout);
        const written = readRuleSet(text);
        expect(plain(listed)).toEqual(plain(written));
        expect(listed.unallocatedDrop).toEqual(written.unallocatedDrop);
        expect([...listed.frontends.values()].filter((f) => f.nodeMeetsVerdict)).toHaveLength(layout.nodeMeetsVerdict);
      });
    });
  }
});
