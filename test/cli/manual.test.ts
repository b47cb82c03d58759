import { describe, expect, it } from 'vitest';
import { kpc } from '../helpers/cli.js';

describe('kpc manual', () => {
  it('is a man page with every command, its flags and its exit statuses', async () => {
    const run = await kpc(['manual']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^\.TH KPC 1 "" "kpc \d+\.\d+\.\d+" "User Commands"\n/);
    for (const command of ['generate', 'apply', 'validate', 'diff', 'explain', 'graph', 'dns', 'completion']) {
      expect(run.stdout).toContain(`.B kpc ${command}`);
    }
    expect(run.stdout).toContain('.B \\-\\-format <format>');
    expect(run.stdout).toMatch(/Exit status: 0 valid \(warnings allowed\), 1 a problem in the input, 2 usage error\./);
    // No line may start a roff request by accident.
    expect(run.stdout.split('\n').filter((l) => /^[.']/.test(l) && !/^\.(TH|SH|SS|B|BR|I|TP|PP|nf|fi)( |$)/.test(l))).toEqual([]);
  });
});
