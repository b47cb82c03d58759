import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kpc, stderrLines, tempDir } from '../helpers/cli.js';
import { NODE_FLAGS, SERVICE } from '../helpers/manifests.js';

/**
 * An input with no object at all (an empty file, a dump that came out empty,
 * only comments and `---`) is not an error for these commands, but compiling
 * it without a word let an empty rule set pass for a real one: each command
 * that reads manifests says so on stderr and still exits 0.
 */

const dir = tempDir('kpc-empty-');
const EMPTY = join(dir, 'empty.yaml');
writeFileSync(EMPTY, '');
const COMMENTS = join(dir, 'comments.yaml');
writeFileSync(COMMENTS, '# nothing here yet\n---\n---\n');
const SOME = join(dir, 'service.yaml');
writeFileSync(SOME, SERVICE);

const WARNING = 'kpc: warning: no objects in the input: what -f gave holds only empty documents or comments';

describe.concurrent('an input with no objects', () => {
  it('kpc generate warns, still writes the (empty) rule set and exits 0', async () => {
    const run = await kpc(['generate', '--mode', 'iptables', ...NODE_FLAGS, '-f', EMPTY]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(stderrLines(run)).toEqual([WARNING]);
    expect(run.stdout).toMatch(/^\*nat$/m);
  });

  it('kpc generate warns for comments and empty documents only, and for an empty stdin', async () => {
    const comments = await kpc(['generate', '--mode', 'nftables', ...NODE_FLAGS, '-f', COMMENTS]);
    expect(stderrLines(comments)).toEqual([WARNING]);
    const stdin = await kpc(['generate', '--mode', 'nftables', ...NODE_FLAGS, '-f', '-'], { input: '' });
    expect(stdin.exitCode, stdin.stderr).toBe(0);
    expect(stderrLines(stdin)).toEqual([WARNING]);
  });

  it('kpc generate says nothing when one input is empty and another has objects', async () => {
    const run = await kpc(['generate', '--mode', 'iptables', ...NODE_FLAGS, '-f', EMPTY, '-f', SOME]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
  });

  it('kpc validate warns before its count and exits 0', async () => {
    const run = await kpc(['validate', '-f', EMPTY]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(stderrLines(run)).toEqual([WARNING, '0 objects checked: valid']);
  });

  it('kpc graph and kpc dns warn too', async () => {
    for (const args of [['graph', ...NODE_FLAGS, '-f', EMPTY], ['dns', '-f', EMPTY]]) {
      const run = await kpc(args);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(stderrLines(run)).toEqual([WARNING]);
    }
  });
});
