import type { Command } from 'commander';
import { validateSources } from '../compile.js';
import { appendFile, readInputs } from './inputs.js';
import { printDiagnostics, printLine, warnIfNoObjects } from './report.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check manifests as the API server and kube-proxy would, reporting every problem')
    .requiredOption('-f, --file <path>', "manifest file, folder (recursive) or '-' for stdin; repeatable", appendFile)
    .action(async (flags: { file: string[] }) => {
      const sources = await readInputs(flags.file);
      const { diagnostics, checked } = validateSources(sources);
      printDiagnostics(diagnostics);
      warnIfNoObjects(checked);
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      const warnings = diagnostics.length - errors;
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
