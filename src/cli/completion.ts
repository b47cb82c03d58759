import type { Command } from 'commander';
import { UsageError } from './errors.js';
import { writeStdout } from './output.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** What a completion offers: each command with its flags, read from the commands as registered, so it never goes stale. */
interface Completions {
  commands: { name: string; description: string; flags: string[] }[];
}

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish')
    .argument('<shell>', SHELLS.join(', '))
    .addHelpText(
      'after',
      `
Exit status: 0 printed, 2 usage error.

Examples:
  source <(kpc completion bash)                       # in ~/.bashrc
  kpc completion fish > ~/.config/fish/completions/kpc.fish`,
    )
    .action(async (shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`completion ${JSON.stringify(shell)}: use one of ${SHELLS.join(', ')}`);
      await writeStdout(completionScript(shell as Shell, completionsOf(program)));
    });
}

export function completionsOf(program: Command): Completions {
  return {
    commands: program.commands.map((command) => ({
      name: command.name(),
      description: command.description(),
      flags: command.options.flatMap((option) => [option.short, option.long].filter((f): f is string => Boolean(f))),
    })),
  };
}

export function completionScript(shell: Shell, completions: Completions): string {
  switch (shell) {
    case 'bash':
      return bash(completions);
    case 'zsh':
      return `#compdef kpc\nautoload -U +X bashcompinit && bashcompinit\n${bash(completions)}`;
    case 'fish':
      return fish(completions);
  }
}

/** Command names and flags are kpc's own words (letters, digits, dashes), so they go into the script as they are. */
function bash({ commands }: Completions): string {
  const cases = commands.map((c) => `    ${c.name}) flags="${c.flags.join(' ')}" ;;`).join('\n');
  return `# kpc completion for bash: source <(kpc completion bash)
_kpc() {
  local cur=\${COMP_WORDS[COMP_CWORD]} command=\${COMP_WORDS[1]} flags
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(' ')} help" -- "$cur"))
    return
  fi
  case $command in
${cases}
    *) flags="" ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags --help" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _kpc kpc
`;
}

function fish({ commands }: Completions): string {
  const lines = ['# kpc completion for fish: kpc completion fish > ~/.config/fish/completions/kpc.fish', 'complete -c kpc -f -n __fish_use_subcommand -a help -d "show help"'];
  for (const c of commands) {
    lines.push(`complete -c kpc -f -n __fish_use_subcommand -a ${c.name} -d '${c.description.replace(/[\\']/g, '\\$&')}'`);
    for (const flag of c.flags) {
      const spec = flag.startsWith('--') ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`;
      lines.push(`complete -c kpc -n '__fish_seen_subcommand_from ${c.name}' ${spec}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
