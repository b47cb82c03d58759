import { describe, expect, it } from 'vitest';
import { kpc } from '../helpers/cli.js';

const COMMANDS = ['generate', 'apply', 'validate', 'diff', 'explain', 'graph', 'dns', 'simulate', 'completion', 'manual'];

describe('every command\'s --help', () => {
  it.each(COMMANDS)('%s says its exit statuses and gives at least two examples', async (command) => {
    const run = await kpc([command, '--help']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/\nExit status/);
    const examples = run.stdout.split('\nExamples:\n')[1] ?? '';
    expect(examples.split('\n').filter((line) => /^ {2}\S/.test(line) && line.includes('kpc')).length).toBeGreaterThanOrEqual(2);
  });

  it('uses -o for a file only: a format given to -o is deprecated wherever a command has formats', async () => {
    for (const command of ['diff', 'explain', 'graph']) {
      const help = (await kpc([command, '--help'])).stdout;
      expect(help, command).toMatch(/-o, --output <file>/);
      expect(help, command).toMatch(/--format <format>/);
    }
  });
});
