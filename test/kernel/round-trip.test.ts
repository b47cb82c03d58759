import { expect, it } from 'vitest';
import { readRuleSet } from '../../src/read/index.js';
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
      });
    });
  }
});
