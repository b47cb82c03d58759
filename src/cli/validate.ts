import type { Command } from 'commander';
import { validateSources } from '../compile.js';
import { appendFile, readInputs } from './inputs.js';
import { addInputOptions, inputOptionsFrom, type RawInputFlags } from './input-options.js';
import { printDiagnostics, printLine, simulateHint } from './report.js';

export function registerValidate(program: Command): void {
  const command = program
    .command('validate')
    .description('check manifests as the API server and kube-proxy would, reporting every problem')
    .requiredOption('-f, --file <path>', "manifest file, folder (recursive) or '-' for stdin; repeatable", appendFile)
    .option('-v, --verbose', 'list each object of a kind kpc does not read, not one line per kind');
  addInputOptions(command)
    .action(async (flags: { file: string[]; verbose?: boolean } & RawInputFlags) => {
      const options = inputOptionsFrom(flags);
      const sources = await readInputs(flags.file);
      const { diagnostics, checked, unallocated } = validateSources(sources, options);
      printDiagnostics(diagnostics, flags.verbose);
      if (unallocated) printLine(`warning: ${simulateHint(unallocated)}`);
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      const warnings = diagnostics.length - errors + (unallocated ? 1 : 0);
      const also = warnings ? `, ${count(warnings, 'warning')}` : '';
      if (errors) {
        printLine(`${count(checked, 'object')} checked: ${count(errors, 'problem')}${also}`);
        process.exitCode = 1;
      } else printLine(`${count(checked, 'object')} checked: valid${also}`);
    });
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
