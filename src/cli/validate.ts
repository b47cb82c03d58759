import type { Command } from 'commander';
import { validateSources } from '../compile.js';
import { readInputs } from './inputs.js';
import { printDiagnostics, printLine } from './report.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check manifests as the API server and kube-proxy would, reporting every problem')
    .requiredOption('-f, --file <path>', "manifest file, folder (recursive) or '-' for stdin; repeatable", (v: string, p: string[]) => [...p, v], [])
    .action(async (flags: { file: string[] }) => {
      const sources = await readInputs(flags.file);
      const { diagnostics, checked } = validateSources(sources);
      printDiagnostics(diagnostics);
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      const objects = `${checked} object${checked === 1 ? '' : 's'}`;
      if (errors) {
        printLine(`${objects} checked: ${errors} problem${errors === 1 ? '' : 's'}`);
        process.exitCode = 1;
      } else printLine(`${objects} checked: valid`);
    });
}
