import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectNoStackTrace, kpc, tempDir } from '../helpers/cli.js';

/** `kpc dns` as a user runs it: generate's conventions for exit status and -o. */

const dir = tempDir('kpc-dns-');

describe('kpc dns', () => {
  it('prints the zone, honours --cluster-domain and --ttl, and -o writes it atomically', async () => {
    const run = await kpc(['dns', '-f', 'examples/shop', '--cluster-domain', 'corp.example.', '--ttl', '30']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain('web.shop.svc.corp.example.\t30\tIN\tA\t10.96.0.10');
    expect(run.stdout).toContain('orders-db.shop.svc.corp.example.\t30\tIN\tCNAME\torders.db.example.com.');
    const file = join(dir, 'shop.zone');
    const written = await kpc(['dns', '-f', 'examples/shop', '--cluster-domain', 'corp.example.', '--ttl', '30', '-o', file]);
    expect(written.exitCode, written.stderr).toBe(0);
    expect(written.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(run.stdout);
  });

  it('usage errors exit 2; bad input exits 1 and writes nothing', async () => {
    for (const [args, message] of [
      [['--cluster-domain', 'Cluster_Local'], /--cluster-domain "Cluster_Local" must be a DNS-1123 subdomain/],
      [['--ttl', 'soon'], /--ttl "soon": use whole seconds from 0 to 3600/],
    ] as const) {
      const run = await kpc(['dns', '-f', 'examples/shop', ...args]);
      expect(run.exitCode, run.stderr).toBe(2);
      expect(run.stderr).toMatch(message);
      expectNoStackTrace(run);
    }
    const out = join(dir, 'never.zone');
    const bad = await kpc(['dns', '-f', '-', '-o', out], { input: 'apiVersion: v1\nkind: Service\nmetadata: { name: x, namespace: web }\nspec: { clusterIP: 10.96.0.1, ports: [{ port: 0 }] }\n' });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/-:4: Service web\/x: spec\.ports\[0\]\.port/);
    expect(() => readFileSync(out)).toThrow();
    expectNoStackTrace(bad);
  });
});
