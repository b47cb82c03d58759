import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { kpc } from '../helpers/cli.js';

/** Completes the words as bash would, with the script kpc prints, in a real bash. */
function complete(script: string, words: string[]): string[] {
  const program = `${script}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _kpc; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

describe('kpc completion', () => {
  it('bash: completes commands, then each command\'s own flags, as registered', async () => {
    const run = await kpc(['completion', 'bash']);
    expect(run.exitCode).toBe(0);
    expect(complete(run.stdout, ['kpc', 'va'])).toEqual(['validate']);
    expect(complete(run.stdout, ['kpc', 'validate', '--f'])).toEqual(['--file', '--format']);
    expect(complete(run.stdout, ['kpc', 'generate', '--node-'])).toEqual(['--node-ip', '--node-name']);
    expect(complete(run.stdout, ['kpc', ''])).toContain('completion');
  });

  it('zsh loads the bash completion through bashcompinit; fish gets one line per flag', async () => {
    expect((await kpc(['completion', 'zsh'])).stdout).toMatch(/^#compdef kpc\nautoload -U \+X bashcompinit && bashcompinit\n/);
    const fish = (await kpc(['completion', 'fish'])).stdout;
    expect(fish).toContain("complete -c kpc -n '__fish_seen_subcommand_from validate' -l format");
    expect(fish).toContain("complete -c kpc -n '__fish_seen_subcommand_from generate' -s f");
  });

  it('refuses a shell it does not know as a usage error', async () => {
    const run = await kpc(['completion', 'tcsh']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/use one of bash, zsh, fish/);
  });
});
