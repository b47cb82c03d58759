import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, kpc } from '../helpers/cli.js';

// The CLI's edges that need no kernel: usage errors (exit 2) come before
// anything else, and a non-root user is refused with the reason (exit 1).

const ARGS = ['-f', 'examples/shop', '--node-name', 'node-a', '--node-ip', '192.0.2.10', '--cluster-cidr', '10.244.0.0/16'];

describe('kpc apply: refusals', () => {
  it('a bad --mode or --family is a usage error (exit 2)', async () => {
    const mode = await kpc(['apply', ...ARGS, '--mode', 'pf']);
    expect(mode.exitCode).toBe(2);
    expect(mode.stderr).toMatch(/--mode "pf": use one of/);
    const family = await kpc(['apply', ...ARGS, '--mode', 'iptables', '--family', 'ipv5']);
    expect(family.exitCode).toBe(2);
    expect(family.stderr).toMatch(/--family "ipv5": use ipv4 or ipv6/);
  });

  it.runIf(process.getuid?.() === 0)('a non-root user is refused, saying why (exit 1), before any input is read', async () => {
    // setpriv drops to nobody for this one process; nothing else changes.
    const result = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'apply', ...ARGS, '--mode', 'nftables'], {
      cwd: ROOT,
      reject: false,
      env: { KPC_DEBUG: '' },
    });
    expect(result.exitCode, String(result.stderr)).toBe(1);
    expect(String(result.stderr)).toMatch(/^kpc: kpc apply must run as root/m);
  });
});
