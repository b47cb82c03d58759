import { expect, it } from 'vitest';
import { emitIpvsParts } from '../../src/emit/ipvs/index.js';
import { compileFixture, fixtureCases, render } from '../helpers/fixtures.js';
import { describeKernel } from './harness.js';
import { diffModels } from '../../src/diff/diff.js';
import { readRuleSet } from '../../src/read/index.js';
import { withNetns } from './netns.js';

/** Every fixture's output is accepted by the kernel's own loaders, in a throwaway namespace. */
describeKernel('fixtures load into a real kernel', () => {
  for (const fixture of fixtureCases()) {
    it(`${fixture.name}: iptables-restore, ip6tables-restore, nft -c, ipset restore accept the output`, async () => {
      const graph = await compileFixture(fixture);
      await withNetns(async (exec) => {
        const v4 = await exec(['iptables-restore', '--test'], render(graph, 'iptables', 4));
        expect(v4.stderr).toBe('');
        expect(v4.exitCode).toBe(0);
        const v6 = await exec(['ip6tables-restore', '--test'], render(graph, 'iptables', 6));
        expect(v6.exitCode, v6.stderr).toBe(0);
        const nft = await exec(['nft', '-c', '-f', '-'], render(graph, 'nftables'));
        expect(nft.exitCode, nft.stderr).toBe(0);
        const compact = await exec(['nft', '-c', '-f', '-'], render(graph, 'nftables', 4, 'compact'));
        expect(compact.exitCode, compact.stderr).toBe(0);
        // IPVS itself needs the VM (test/vm); its ipsets and iptables part load here.
        const parts = emitIpvsParts(graph);
        const ipset = await exec(['ipset', 'restore', '-exist'], parts.find((p) => p.name === 'ipset')!.text);
        expect(ipset.exitCode, ipset.stderr).toBe(0);
        for (const part of parts.filter((p) => p.name === 'iptables' || p.name === 'ip6tables')) {
          const tool = part.name === 'iptables' ? 'iptables-restore' : 'ip6tables-restore';
          const result = await exec([tool, '--test'], part.text);
          expect(result.exitCode, `${part.name}: ${result.stderr}`).toBe(0);
        }
      });
    });
  }

  it('nftables output loads twice in a row (replacing, not duplicating) and leaves a foreign table byte-identical', async () => {
    const fixture = fixtureCases().find((f) => f.name === 'session-affinity')!;
    const text = render(await compileFixture(fixture), 'nftables');
    const foreign = 'table inet user-fw {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n\t\ttcp dport 22 accept comment "ssh"\n\t}\n}\n';
    await withNetns(async (exec) => {
      expect((await exec(['nft', '-f', '-'], foreign)).exitCode).toBe(0);
      const before = (await exec(['nft', 'list', 'table', 'inet', 'user-fw'])).stdout;
      expect((await exec(['nft', '-f', '-'], text)).exitCode).toBe(0);
      const once = (await exec(['nft', 'list', 'table', 'ip', 'kube-proxy'])).stdout;
      const second = await exec(['nft', '-f', '-'], text);
      expect(second.exitCode, second.stderr).toBe(0);
      const twice = (await exec(['nft', 'list', 'table', 'ip', 'kube-proxy'])).stdout;
      expect(twice).toBe(once);
      expect((await exec(['nft', 'list', 'table', 'inet', 'user-fw'])).stdout).toBe(before);
      const tables = (await exec(['nft', 'list', 'tables'])).stdout.trim().split('\n').sort();
      expect(tables).toEqual(['table inet user-fw', 'table ip kube-proxy']);
    });
  });

  for (const fixture of fixtureCases()) {
    it(`${fixture.name}: the compact layout, loaded over kube-proxy's and listed back by nft, reads as the file kpc wrote`, async () => {
      const graph = await compileFixture(fixture);
      const compact = render(graph, 'nftables', 4, 'compact');
      await withNetns(async (exec) => {
        expect((await exec(['nft', '-f', '-'], render(graph, 'nftables'))).exitCode).toBe(0);
        const loaded = await exec(['nft', '-f', '-'], compact);
        expect(loaded.exitCode, loaded.stderr).toBe(0);
        const listing = (await exec(['nft', 'list', 'ruleset'])).stdout;
        expect(diffModels(readRuleSet(compact, 'nftables'), readRuleSet(listing, 'nftables')).changes).toEqual([]);
        expect(readRuleSet(listing, 'nftables').frontends.size).toBe(readRuleSet(compact, 'nftables').frontends.size);
      });
    });
  }
});
