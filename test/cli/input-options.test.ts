import { describe, expect, it } from 'vitest';
import { SERVICE, SLICE, yamlDocs } from '../helpers/manifests.js';
import { kpc } from '../helpers/cli.js';

const unnamespaced = yamlDocs(SERVICE, SLICE).replaceAll('  namespace: shop\n', '');

describe('-n/--namespace', () => {
  it('gives objects that name no namespace the one given, as kubectl apply -n does', async () => {
    const plain = await kpc(['generate', '-f', '-', '--mode', 'nftables'], { input: unnamespaced });
    const named = await kpc(['generate', '-f', '-', '--mode', 'nftables', '-n', 'shop'], { input: unnamespaced });
    const explicit = await kpc(['generate', '-f', '-', '--mode', 'nftables'], { input: yamlDocs(SERVICE, SLICE) });
    expect(plain.stdout).toContain('default/web/tcp/http');
    expect(named.exitCode).toBe(0);
    expect(named.stdout).toBe(explicit.stdout);
  });

  it('leaves objects that name their namespace alone', async () => {
    const run = await kpc(['generate', '-f', '-', '--mode', 'nftables', '--namespace', 'other'], { input: yamlDocs(SERVICE, SLICE) });
    expect(run.stdout).toContain('shop/web/tcp/http');
    expect(run.stdout).not.toContain('other/');
  });

  it('is a usage error when it is not a namespace name, on every command that reads manifests', async () => {
    for (const command of ['generate', 'validate', 'dns', 'graph']) {
      const args = command === 'generate' ? ['--mode', 'iptables'] : [];
      const run = await kpc([command, '-f', '-', '-n', 'Not_A_Namespace', ...args], { input: SERVICE });
      expect(run.exitCode, command).toBe(2);
      expect(run.stderr).toMatch(/--namespace "Not_A_Namespace"/);
    }
  });

  it('reaches validate\'s messages', async () => {
    const run = await kpc(['validate', '-f', '-', '-n', 'team-a'], { input: unnamespaced.replace('port: 80\n', 'port: 70000\n') });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/Service team-a\/web: spec\.ports\[0\]\.port/);
  });
});
