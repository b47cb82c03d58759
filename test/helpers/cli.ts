import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, expect } from 'vitest';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'kpc');

export interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/kpc ARGS...` (dist/, built by test/setup/build.ts) as a user
 * would: an argument array, no shell, stdin closed unless `input` is given.
 */
export async function kpc(args: string[], options: { input?: string; cwd?: string } = {}): Promise<Run> {
  const result = await execa(process.execPath, [BIN, ...args], {
    reject: false,
    cwd: options.cwd ?? ROOT,
    // Never the debug mode that prints stacks; the tests check users never see one.
    env: { KPC_DEBUG: '', NODE_OPTIONS: '' },
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    stripFinalNewline: false,
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Whatever went wrong, the user sees kpc's words: no stack frame, no crash banner. */
export function expectNoStackTrace(run: Run): void {
  expect(run.stderr, run.stderr).not.toMatch(/^ {4}at /m);
  expect(run.stderr).not.toMatch(/internal error|node:internal|Node\.js v\d+/);
}

/** stderr's lines, without the final empty one. */
export function stderrLines(run: Run): string[] {
  return run.stderr.split('\n').filter((line) => line !== '');
}

/** A fresh temporary folder, removed after the test file. */
export function tempDir(prefix = 'kpc-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
