import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN, expectNoStackTrace, tempDir, type Run } from '../helpers/cli.js';

/**
 * bin/kpc before `npm ci` (or `npm run build`): dist/ does not exist yet. It
 * ran into Node's own module-not-found stack trace. The real dist/ is never
 * touched: bin/kpc is copied into a folder laid out like a checkout.
 */

const dir = tempDir('kpc-bin-');

/** A copy of bin/kpc at CHECKOUT/bin/kpc, with CHECKOUT/dist/kpc.mjs as given (absent when null). */
function checkout(name: string, bundle: string | null): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync(BIN, join(root, 'bin', 'kpc'));
  if (bundle !== null) {
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'dist', 'kpc.mjs'), bundle);
  }
  return join(root, 'bin', 'kpc');
}

async function run(bin: string, args: string[]): Promise<Run> {
  const result = await execa(process.execPath, [bin, ...args], { reject: false, stdin: 'ignore', env: { KPC_DEBUG: '', NODE_OPTIONS: '' }, stripFinalNewline: false });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

describe.concurrent('bin/kpc', () => {
  it('without dist/ says to run npm ci, exit 1, no stack trace', async () => {
    const result = await run(checkout('fresh', null), ['generate', '--mode', 'iptables', '-f', 'x.yaml']);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('kpc: dist/ is missing: run npm ci (or npm run build) first\n');
    expectNoStackTrace(result);
  });

  it('runs the built bundle when it is there', async () => {
    const result = await run(checkout('built', 'export async function main(argv) { process.stdout.write(`ran ${argv.join(" ")}\\n`); return 3; }\n'), ['--version']);
    expect(result.stdout).toBe('ran --version\n');
    expect(result.exitCode).toBe(3);
  });

  it('does not pass off another missing module inside dist/ as a missing build', async () => {
    const result = await run(checkout('broken', "import './gone.mjs';\nexport async function main() { return 0; }\n"), ['--version']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).not.toContain('dist/ is missing');
    expect(result.stderr).toContain('gone.mjs');
  });
});
