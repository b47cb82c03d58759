import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { describeKernel } from './harness.js';
import { withNetns } from './netns.js';

const ROOT = join(import.meta.dirname, '..', '..');
const KPC = join(ROOT, 'bin', 'kpc');
const NODE = ['--node-name', 'node-a', '--node-ip', '192.0.2.10', '--cluster-cidr', '10.244.0.0/16'];

/** `kpc diff --live` reads what the kernel really runs, inside a namespace the test made. */
describeKernel('kpc diff --live', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kpc-live-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const shop = join(dir, 'shop');
  const changed = join(dir, 'changed');
  cpSync(join(ROOT, 'examples', 'shop'), shop, { recursive: true });
  cpSync(shop, changed, { recursive: true });
  const slices = join(changed, 'endpointslices.yaml');
  writeFileSync(slices, readFileSync(slices, 'utf8').replace('10.244.2.2', '10.244.2.9'));

  // nftables-compact: the live table is the compact layout; diff compiles the manifests in kube-proxy's layout, so it also shows the two layouts read as one.
  for (const backend of ['iptables', 'nftables', 'nftables-compact'] as const) {
    const mode = backend === 'iptables' ? 'iptables' : 'nftables';
    const layout = backend === 'nftables-compact' ? ['--layout', 'compact'] : [];
    it(`${backend}: the live rules match the manifests they came from, and a change shows`, async () => {
      await withNetns(async (exec) => {
        const generated = await execa('node', [KPC, 'generate', '-f', shop, '--mode', mode, ...layout, ...NODE]);
        const loader = mode === 'iptables' ? ['iptables-restore'] : ['nft', '-f', '-'];
        expect((await exec(loader, generated.stdout)).exitCode).toBe(0);
        const same = await exec(['node', KPC, 'diff', '--live', shop, '--mode', mode, ...NODE]);
        expect(same.stderr).toBe('');
        expect(same.exitCode).toBe(0);
        const differs = await exec(['node', KPC, 'diff', '--live', changed, '--mode', mode, ...NODE]);
        expect(differs.exitCode).toBe(1);
        expect(differs.stdout).toContain('+ endpoint 10.244.2.9:8080');
        expect(differs.stdout).toContain('- endpoint 10.244.2.2:8080');
      });
    });
  }

  it('nftables: a node still running the layout before kubernetes#132456 differs in the node\'s own traffic only', async () => {
    const manifests = join(ROOT, 'fixtures', 'external-traffic-local-lb', 'input.yaml');
    const before = readFileSync(join(ROOT, 'test', 'read', 'fixtures', 'nftables-before-132456.nft'), 'utf8');
    await withNetns(async (exec) => {
      expect((await exec(['nft', '-f', '-'], before)).exitCode).toBe(0);
      const older = await exec(['node', KPC, 'diff', '--live', manifests, '--mode', 'nftables', ...NODE]);
      expect(older.stderr).toBe('');
      expect(older.exitCode).toBe(1);
      expect(older.stdout.trim().split('\n')).toEqual([
        'default/far',
        '  IPv4 tcp 198.51.100.40:80',
        "    ~ the node's own traffic (policy Local): drop -> short-circuited",
        '  IPv4 tcp 198.51.100.41:80',
        "    ~ the node's own traffic (policy Local): drop -> short-circuited",
      ]);
    });
  });
});
