import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateCluster } from '../../bench/generate-cluster.js';
import { LARGE_INPUT_BYTES } from '../../src/cli/progress.js';
import { BIN, kpc, tempDir } from '../helpers/cli.js';

/**
 * The progress line as a user sees it: kpc run under `script`, which gives it
 * a pseudo-terminal for stdin, stdout and stderr, against what a pipe gets.
 */
describe('kpc generate: progress on a terminal', () => {
  const dir = tempDir();
  let input = '';
  let flags: string[] = [];

  beforeAll(() => {
    const cluster = generateCluster({ servicePorts: 1500, seed: 11 });
    expect(cluster.text.length).toBeGreaterThan(LARGE_INPUT_BYTES);
    input = join(dir, 'large.yaml');
    writeFileSync(input, cluster.text);
    flags = ['--node-name', cluster.node.name, '--node-ip', cluster.node.ip, '--cluster-cidr', cluster.node.clusterCIDR];
  });

  /** Everything the terminal received (stdout and stderr together), and the output file. */
  async function onTerminal(extra: string[]): Promise<{ terminal: string; rules: string }> {
    const out = join(dir, `out-${extra.join('')}.rules`);
    const command = [process.execPath, BIN, 'generate', '-f', input, '--mode', 'iptables', ...flags, '-o', out, ...extra];
    // script(1) takes one command line; every argument here is a path or a flag of ours, quoted for sh.
    const quoted = command.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
    const run = await execa('script', ['-qec', quoted, '/dev/null'], { reject: false, stdin: 'ignore', env: { NODE_OPTIONS: '' } });
    expect(run.exitCode, String(run.stdout)).toBe(0);
    return { terminal: String(run.stdout), rules: readFileSync(out, 'utf8') };
  }

  it('shows each step on one line, rewritten in place, and erases it when done', async () => {
    const { terminal, rules } = await onTerminal([]);
    // The ticker redraws a step with its seconds moving: one step, however many redraws.
    const steps = terminal
      .split('\r\x1b[2K')
      .filter((s) => s !== '')
      .map((s) => s.replace(/ \(\d+\.\d s\)$/, ''))
      .filter((s, i, all) => s !== all[i - 1]);
    expect(steps).toEqual([
      expect.stringMatching(/^kpc: reading 5\.\d MB of manifests$/),
      expect.stringMatching(/^kpc: checking [\d,]+ objects$/),
      'kpc: matching endpoints to services',
      'kpc: building the routing graph',
      'kpc: writing iptables rules to a file',
    ]);
    expect(terminal.endsWith('\r\x1b[2K')).toBe(true);
    expect(rules).toMatch(/^COMMIT$/m);
  });

  it('shows nothing with --quiet', async () => {
    const { terminal } = await onTerminal(['--quiet']);
    expect(terminal).toBe('');
  });

  it('shows nothing when stderr is a pipe', async () => {
    const run = await kpc(['generate', '-f', input, '--mode', 'iptables', ...flags, '-o', join(dir, 'piped.rules')]);
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toBe('');
  });

  it('kpc validate shows its steps too, and erases them before its summary', async () => {
    const command = [process.execPath, BIN, 'validate', '-f', input];
    const quoted = command.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
    const run = await execa('script', ['-qec', quoted, '/dev/null'], { reject: false, stdin: 'ignore', env: { NODE_OPTIONS: '' } });
    const terminal = String(run.stdout);
    expect(terminal).toMatch(/kpc: reading 5\.\d MB of manifests/);
    expect(terminal).toMatch(/kpc: checking [\d,]+ objects/);
    expect(terminal).toMatch(/\r\x1b\[2K[\d,]+ objects checked: valid\s*$/);
  });
});
