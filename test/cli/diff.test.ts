import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, kpc } from '../helpers/cli.js';

const NODE = ['--node-name', 'node-a', '--node-ip', '192.0.2.10', '--cluster-cidr', '10.244.0.0/16'];
const SHOP = join(ROOT, 'examples', 'shop');

/** kpc diff follows diff(1): 0 same, 1 different, 2 trouble. */
describe('kpc diff', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kpc-diff-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const generate = async (mode: string, name: string) => {
    const out = join(dir, name);
    const result = await kpc(['generate', '-f', SHOP, '--mode', mode, ...NODE, '-o', out]);
    expect(result.exitCode, result.stderr).toBe(0);
    return out;
  };

  it('exits 0 for the iptables and nftables forms of the same manifests, and for manifests against their own rules', async () => {
    const iptables = await generate('iptables', 'shop.rules');
    const nftables = await generate('nftables', 'shop.nft');
    const same = await kpc(['diff', iptables, nftables]);
    expect(same.exitCode, same.stdout + same.stderr).toBe(0);
    expect(same.stdout).toBe('');
    expect((await kpc(['diff', SHOP, nftables, ...NODE])).exitCode).toBe(0);
  });

  it('exits 1 with the change grouped by service port, as text, json and --stat', async () => {
    const nftables = await generate('nftables', 'base.nft');
    const changed = join(dir, 'changed.nft');
    writeFileSync(changed, readFileSync(nftables, 'utf8').replaceAll('10.244.2.3', '10.244.2.7'));
    const text = await kpc(['diff', nftables, changed]);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain('shop/api:http\n');
    expect(text.stdout).toContain('+ endpoint 10.244.2.7:8080');
    expect(text.stdout).not.toMatch(/\u001b\[/);
    const json = await kpc(['diff', nftables, changed, '--format', 'json']);
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout).changes.map((c: { kind: string }) => c.kind)).toContain('endpoint-added');
    // The old spelling still works for a release, and says what to write instead.
    const old = await kpc(['diff', nftables, changed, '-o', 'json']);
    expect(JSON.parse(old.stdout)).toEqual(JSON.parse(json.stdout));
    expect(old.stderr).toMatch(/-o json is deprecated: use --format json/);
    // -o names a file, as in every other command.
    const report = join(dir, 'report.json');
    const toFile = await kpc(['diff', nftables, changed, '--format', 'json', '-o', report]);
    expect(toFile.exitCode).toBe(1);
    expect(toFile.stdout).toBe('');
    expect(JSON.parse(readFileSync(report, 'utf8'))).toEqual(JSON.parse(json.stdout));
    const stat = await kpc(['diff', nftables, changed, '--stat']);
    expect(stat.stdout).toMatch(/^1 service port\(s\) changed: .*2 endpoint\(s\) added, 2 removed/);
  });

  it('exits 2 on trouble: a missing file, one side only, or input it cannot read', async () => {
    expect((await kpc(['diff', join(dir, 'absent'), SHOP])).exitCode).toBe(2);
    expect((await kpc(['diff', SHOP])).exitCode).toBe(2);
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'apiVersion: v1\nkind: Service\nmetadata: { name: "a b" }\nspec: { ports: [{ port: 70000 }] }\n');
    const result = await kpc(['diff', broken, SHOP, ...NODE]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
