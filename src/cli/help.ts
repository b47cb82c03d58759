import type { Command } from 'commander';

/**
 * The text after a command's option list: what its exit statuses mean and
 * examples to copy, as every kpc command's --help ends (and the man page
 * repeats).
 */
export function addUsageNotes(command: Command, exitStatus: string, examples: string[]): Command {
  return command.addHelpText('after', `\nExit status: ${exitStatus}\n\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}`);
}
