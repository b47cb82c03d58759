import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_SUFFIX } from '../../src/apply/generation.js';
import type { NftLayout } from '../../src/compile.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyGraph, type ApplyMode } from '../../src/apply/index.js';
import { foreignText, parseSave } from '../../src/apply/iptables.js';
import { describeKernel } from '../kernel/harness.js';
import { service, slices } from '../kernel/manifests.js';
import type { Pod } from '../kernel/harness.js';
import { bareNetns, canonical, compile, fullDump, runDir, sh } from './helpers.js';

// (5) The incremental path: once kpc's rules (with their generation marker)
// are loaded, the next apply sends only the differences. What it leaves must
// be what a full load of the same input leaves; a foreign change to the
// marker (or a missing kept text) sends it back to a full load; foreign
// tables and chains stay byte-identical.

const fakePod = (ip: string): Pod => ({ name: ip, netns: '', nodeName: 'node', ips: { 4: [ip], 6: [] }, ip: { 4: ip } });

function objects(version: 1 | 2 | 3): object[] {
  const out: object[] = [];
  for (let i = 0; i < 6; i++) {
    if (version === 2 && i === 5) continue; // a service removed
    const ports = [{ name: 'http', port: 80 }];
    const last = version === 1 ? 10 : 20 + i; // one endpoint changed everywhere
    const eps = [fakePod(`10.244.1.${i * 2 + 1}`), fakePod(`10.244.2.${last}`)];
    out.push(service(`s${i}`, { clusterIPs: [`10.96.0.${i + 1}`], ports }), ...slices(`s${i}`, ports, eps.map((pod) => ({ pod }))));
  }
  if (version === 3) {
    const ports = [{ name: 'dns', port: 53, protocol: 'UDP' as const, nodePort: 30053 }];
    out.push(service('added', { type: 'NodePort', clusterIPs: ['10.96.0.99'], ports }), ...slices('added', ports, [{ pod: fakePod('10.244.1.99') }]));
  }
  return out;
}

const FOREIGN_IPT = '*filter\n:INPUT ACCEPT [0:0]\n:MINE - [0:0]\n-A INPUT -j MINE\n-A MINE -s 203.0.113.9/32 -j DROP\nCOMMIT\n';
const FOREIGN_NFT = 'table inet mine {\n  chain c { type filter hook input priority 5; tcp dport 2222 drop; }\n}\n';

describeKernel('kpc apply sends only the differences to a host holding its last rules', () => {
  // Both nftables layouts: the compact one's changes are mostly elements of shared maps.
  describe.each([
    ['iptables', undefined],
    ['nftables', 'kube-proxy'],
    ['nftables', 'compact'],
  ] as [ApplyMode, NftLayout | undefined][])('%s %s', (mode, layout) => {
    const run = runDir();
    const fresh = runDir();
    let ns: Awaited<ReturnType<typeof bareNetns>>;
    let reference: Awaited<ReturnType<typeof bareNetns>>;
    beforeAll(async () => {
      ns = await bareNetns();
      reference = await bareNetns();
      for (const n of [ns, reference]) {
        await sh(n.name, ['iptables-restore'], FOREIGN_IPT);
        await sh(n.name, ['nft', '-f', '-'], FOREIGN_NFT);
      }
    });
    afterAll(async () => {
      await ns?.remove();
      await reference?.remove();
      run.remove();
      fresh.remove();
    });

    const foreign = async (name: string) => `${foreignText(parseSave(await sh(name, ['iptables-save'])).get('filter'))}${foreignText(parseSave(await sh(name, ['iptables-save'])).get('nat'))}${await sh(name, ['nft', 'list', 'table', 'inet', 'mine'])}`;

    it('each change is incremental and leaves what a full load leaves; foreign rules untouched', async () => {
      const first = await applyGraph(compile(objects(1)), { mode, layout, target: ns.target, runDir: run.path });
      // After the first load (which creates the nat table's built-in chains where there were none).
      const foreignBefore = await foreign(ns.name);
      expect(first.applied.join()).not.toContain('incremental');
      for (const version of [2, 3, 1] as const) {
        const graph = compile(objects(version));
        const report = await applyGraph(graph, { mode, layout, target: ns.target, runDir: run.path });
        expect(report.changed).toBe(true);
        expect(report.applied.join(), `version ${version}`).toContain('incremental');
        await applyGraph(graph, { mode, layout, target: reference.target, runDir: fresh.path, full: true });
        expect(canonical(await fullDump(ns.name)), `version ${version}: incremental = full`).toBe(canonical(await fullDump(reference.name)));
        const again = await applyGraph(graph, { mode, layout, target: ns.target, runDir: run.path });
        expect(again.changed).toBe(false);
        // The dry run compares listings (the full path's way): objects the increments added list in another order, and that is no change.
        const dry = await applyGraph(graph, { mode, layout, target: ns.target, runDir: run.path, dryRun: true });
        expect(dry.changed, `version ${version}: dry run after the increments`).toBe(false);
      }
      expect(await foreign(ns.name)).toBe(foreignBefore);
      expect(readdirSync(run.path).filter((f) => f.startsWith('loaded-') && !f.endsWith(RECORD_SUFFIX)).length, 'one kept text per family').toBe(1);
      expect(readdirSync(run.path).filter((f) => f.endsWith(RECORD_SUFFIX)).length, 'and its Service record').toBe(1);
    }, 120_000);

    it('counts Services from the kept records, from the rules read back when a record is gone, and still refuses to remove them all', async () => {
      await applyGraph(compile(objects(1)), { mode, layout, target: ns.target, runDir: run.path });
      // A Service only the record knows: counted, so the count comes from the record, not from the rules.
      const [kept] = readdirSync(run.path).filter((name) => name.endsWith(RECORD_SUFFIX));
      const record = JSON.parse(readFileSync(join(run.path, kept!), 'utf8'));
      writeFileSync(join(run.path, kept!), JSON.stringify({ ...record, services: { ...record.services, 'test/ghost': 'x' } }));
      // The incremental path checks against the host itself: it opens no scratch namespace (this target cannot).
      const noScratch = { ...ns.target, openScratch: async () => Promise.reject(new Error('no scratch namespace here')) };
      const two = await applyGraph(compile(objects(2)), { mode, layout, target: noScratch, runDir: run.path });
      expect(two.applied.join()).toContain('incremental');
      expect(two.services).toEqual({ added: [], changed: ['test/s0', 'test/s1', 'test/s2', 'test/s3', 'test/s4'], removed: ['test/ghost', 'test/s5'], live: 7 });
      for (const f of readdirSync(run.path).filter((name) => name.endsWith(RECORD_SUFFIX))) rmSync(join(run.path, f));
      const three = await applyGraph(compile(objects(3)), { mode, layout, target: ns.target, runDir: run.path });
      expect(three.applied.join()).toContain('incremental');
      expect(three.services, 'read back: the record was gone').toEqual({ added: ['test/added', 'test/s5'], changed: [], removed: [], live: 5 });
      expect(readdirSync(run.path).filter((f) => f.endsWith(RECORD_SUFFIX)).length, 'written again with the text').toBe(1);
      const before = await fullDump(ns.name);
      await expect(applyGraph(compile([service('other', { clusterIPs: ['10.96.1.1'], ports: [{ port: 80 }] })]), { mode, layout, target: ns.target, runDir: run.path })).rejects.toThrow(/would remove all 7 Services/);
      expect(await fullDump(ns.name)).toBe(before);
      const back = await applyGraph(compile(objects(1)), { mode, layout, target: ns.target, runDir: run.path });
      expect(back.applied.join()).toContain('incremental');
      expect(back.services).toEqual({ added: [], changed: ['test/s0', 'test/s1', 'test/s2', 'test/s3', 'test/s4', 'test/s5'], removed: ['test/added'], live: 7 });
    }, 120_000);

    it('a marker changed by another program, or a kept text gone, means a full load', async () => {
      await applyGraph(compile(objects(1)), { mode, layout, target: ns.target, runDir: run.path });
      if (mode === 'nftables') await sh(ns.name, ['nft', 'flush', 'set', 'ip', 'kube-proxy', 'kpc-generation']);
      else await sh(ns.name, ['iptables', '-w', '-t', 'nat', '-F', 'KUBE-KPC-GENERATION']);
      const afterEdit = await applyGraph(compile(objects(2)), { mode, layout, target: ns.target, runDir: run.path });
      expect(afterEdit.changed).toBe(true);
      expect(afterEdit.applied.join()).not.toContain('incremental');

      for (const f of readdirSync(run.path).filter((name) => name.startsWith('loaded-'))) (await import('node:fs')).rmSync(`${run.path}/${f}`);
      const noText = await applyGraph(compile(objects(3)), { mode, layout, target: ns.target, runDir: run.path });
      expect(noText.applied.join()).not.toContain('incremental');
      const back = await applyGraph(compile(objects(1)), { mode, layout, target: ns.target, runDir: run.path });
      expect(back.applied.join()).toContain('incremental');

      // A kube-proxy table in the other family that kpc did not write (no marker there): not known to be kpc's last text.
      if (mode === 'nftables') {
        await sh(ns.name, ['nft', 'add', 'table', 'ip6', 'kube-proxy']);
        const foreign = await applyGraph(compile(objects(2)), { mode, layout, target: ns.target, runDir: run.path });
        expect(foreign.applied.join()).not.toContain('incremental');
      }
    }, 120_000);
  });
});

// The incremental check runs while the Services are counted; when it fails, nothing is committed. nftables checks against the live table (`nft -c`), so the live host can fail it.
describeKernel('a failed incremental check changes nothing', () => {
  describe.each(['kube-proxy', 'compact'] as NftLayout[])('nftables %s', (layout) => {
    const run = runDir();
    let ns: Awaited<ReturnType<typeof bareNetns>>;
    beforeAll(async () => {
      ns = await bareNetns();
    });
    afterAll(async () => {
      await ns?.remove();
      run.remove();
    });

    it('an element the plan deletes is gone: the apply stops before anything changes; --full then loads', async () => {
      await applyGraph(compile(objects(1)), { mode: 'nftables', layout, target: ns.target, runDir: run.path });
      await sh(ns.name, ['nft', 'delete', 'element', 'ip', 'kube-proxy', 'service-ips', '{ 10.96.0.6 . tcp . 80 }']);
      const before = await fullDump(ns.name);
      await expect(applyGraph(compile(objects(2)), { mode: 'nftables', layout, target: ns.target, runDir: run.path })).rejects.toThrow(/nft -c rejects the incremental transaction.*nothing was changed/);
      expect(await fullDump(ns.name)).toBe(before);
      const full = await applyGraph(compile(objects(2)), { mode: 'nftables', layout, target: ns.target, runDir: run.path, full: true });
      expect(full.applied.join()).not.toContain('incremental');
    }, 120_000);
  });
});
