import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, expectNoStackTrace, kpc, tempDir, type Run } from '../helpers/cli.js';
import { NODE_FLAGS } from '../helpers/manifests.js';

/**
 * `kpc ... | head`: the reader leaves early and kpc's next write meets EPIPE.
 * kpc ends as the coreutils do there, silently, with the status a shell
 * reports for them (141, 128 + SIGPIPE), so `set -o pipefail` scripts treat
 * kpc like `cat`. The pipe is a real one, to a real `head -c 1`: a stream
 * destroyed inside Node is not what a user meets.
 */

const dir = tempDir('kpc-closed-pipe-');

/** One Service with enough ports that its rules are far beyond what a pipe and head's one read hold (64 KB and up to 128 KB). */
function manyPorts(count: number): string {
  const ports = Array.from({ length: count }, (_, i) => `    - name: p${i}\n      port: ${1000 + i}`).join('\n');
  return `apiVersion: v1\nkind: Service\nmetadata:\n  name: wide\n  namespace: shop\nspec:\n  clusterIP: 10.96.0.10\n  ports:\n${ports}\n`;
}
const WIDE = join(dir, 'wide.yaml');
writeFileSync(WIDE, manyPorts(8000));

/**
 * Runs `node bin/kpc ARGS | head -c 1` with an OS pipe between them; kpc's
 * status and stderr. With `stream: 'stderr'`, `node bin/kpc ARGS 2>&1 >/dev/null | head -c 1`.
 */
function intoHead(args: string[], stream: 'stdout' | 'stderr' = 'stdout'): Promise<Run> {
  return new Promise((resolve, reject) => {
    const head = spawn('head', ['-c', '1'], { stdio: ['pipe', 'ignore', 'inherit'] });
    head.on('error', reject);
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, KPC_DEBUG: '', NODE_OPTIONS: '' },
      // kpc writes straight into head's stdin: the pipe's write end is handed to kpc.
      stdio: stream === 'stdout' ? ['ignore', head.stdin, 'pipe'] : ['ignore', 'ignore', head.stdin],
    });
    // Only kpc holds the write end now; head sees end of input when kpc exits.
    head.stdin.destroy();
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ exitCode: code ?? (signal ? -1 : -2), stdout: '', stderr }));
  });
}

describe.concurrent('a closed standard output', () => {
  it('ends kpc generate silently with status 141, as `seq 1 1000000 | head -c 1` ends seq', async () => {
    const run = await intoHead(['generate', '--mode', 'iptables', ...NODE_FLAGS, '-f', WIDE]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(141);
    expectNoStackTrace(run);
  });

  it('ends kpc diff the same way, not with diff(1)\'s 2 for trouble', async () => {
    const rules = join(dir, 'wide.rules');
    const made = await kpc(['generate', '--mode', 'iptables', ...NODE_FLAGS, '-f', WIDE, '-o', rules]);
    expect(made.exitCode, made.stderr).toBe(0);
    writeFileSync(join(dir, 'none.rules'), '*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n');
    const run = await intoHead(['diff', join(dir, 'none.rules'), rules]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(141);
  });

  it('does not touch -o FILE: the file is written whole and kpc exits 0', async () => {
    const out = join(dir, 'out', 'rules');
    mkdirSync(join(dir, 'out'));
    const run = await intoHead(['generate', '--mode', 'iptables', ...NODE_FLAGS, '-f', WIDE, '-o', out]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const expected = await kpc(['generate', '--mode', 'iptables', ...NODE_FLAGS, '-f', WIDE]);
    expect(readFileSync(out, 'utf8')).toBe(expected.stdout);
    expect(readdirSync(join(dir, 'out'))).toEqual(['rules']);
  });

  // `kpc generate -v -o FILE 2>&1 | head`: the messages' reader left. It crashed kpc before FILE was written.
  it('on stderr loses only the messages: -o FILE is still written whole and kpc exits 0', async () => {
    const out = join(dir, 'verbose', 'rules');
    mkdirSync(join(dir, 'verbose'));
    const run = await intoHead(['generate', '--mode', 'iptables', ...NODE_FLAGS, '-v', '-f', WIDE, '-o', out], 'stderr');
    expect(run.exitCode).toBe(0);
    const expected = await kpc(['generate', '--mode', 'iptables', ...NODE_FLAGS, '-f', WIDE]);
    expect(readFileSync(out, 'utf8')).toBe(expected.stdout);
    expect(readdirSync(join(dir, 'verbose'))).toEqual(['rules']);
  });
});
