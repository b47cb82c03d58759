import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectNoStackTrace, kpc } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/fixtures.js';

const FIXTURE = join(FIXTURES, 'external-traffic-local');
const INPUT = join(FIXTURE, 'input.yaml');
const ARGS = JSON.parse(readFileSync(join(FIXTURE, 'args.json'), 'utf8')) as string[];

describe('--layout', () => {
  it('generate --layout compact writes the compact layout; the default stays kube-proxy\'s', async () => {
    const compact = await kpc(['generate', '--mode', 'nftables', '--layout', 'compact', '-f', INPUT, ...ARGS]);
    expect(compact.exitCode).toBe(0);
    expect(compact.stdout.trimEnd()).toBe(readFileSync(join(FIXTURE, 'expected', 'nftables-compact.nft'), 'utf8').trimEnd());
    const plain = await kpc(['generate', '--mode', 'nftables', '-f', INPUT, ...ARGS]);
    expect(plain.stdout.trimEnd()).toBe(readFileSync(join(FIXTURE, 'expected', 'nftables.nft'), 'utf8').trimEnd());
  });

  it('diff reads manifests in the compact layout as the same as the kube-proxy layout file', async () => {
    const run = await kpc(['diff', '--layout', 'compact', join(FIXTURE, 'expected', 'nftables.nft'), INPUT, ...ARGS]);
    expect(run.exitCode).toBe(0);
  });

  it('explain -f takes --layout compact', async () => {
    const run = await kpc(['explain', '-f', INPUT, '--mode', 'nftables', '--layout', 'compact', '--from', '198.51.100.7', '--to', '10.96.0.13:80', ...ARGS]);
    expect(run.exitCode, run.stderr).toBe(0);
  });

  for (const args of [
    ['generate', '--mode', 'iptables', '--layout', 'compact', '-f', INPUT],
    ['generate', '--mode', 'ipvs', '--layout', 'compact', '-f', INPUT],
    ['generate', '--mode', 'nftables', '--layout', 'tiny', '-f', INPUT],
    ['diff', '--mode', 'iptables', '--layout', 'compact', INPUT, INPUT],
    ['explain', '-f', INPUT, '--mode', 'iptables', '--layout', 'compact', '--from', '198.51.100.7', '--to', '10.96.0.13:80'],
    ['apply', '--mode', 'iptables', '--layout', 'compact', '-f', INPUT, '--dry-run'],
  ]) {
    it(`is a usage error: ${args.slice(0, 5).join(' ')}`, async () => {
      const run = await kpc([...args, ...ARGS]);
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toMatch(/--layout/);
      expectNoStackTrace(run);
    });
  }
});
