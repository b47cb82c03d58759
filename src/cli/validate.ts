import type { Command } from 'commander';
import { validateSources } from '../compile.js';
import { counts, formatReport, REPORT_FORMATS, summary, type ReportFormat } from '../report/formats.js';
import { UsageError } from './errors.js';
import { addInputOptions, inputOptionsFrom, type RawInputFlags } from './input-options.js';
import { appendFile, readInputs } from './inputs.js';
import { writeStdout } from './output.js';
import { compileStepText, LARGE_INPUT_BYTES, Progress } from './progress.js';
import { printDiagnostics, printLine, simulateHint, warnIfNoObjects } from './report.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';

interface ValidateFlags extends RawInputFlags {
  file?: string[];
  format: string;
  quiet?: boolean;
  verbose?: boolean;
}

export function registerValidate(program: Command): void {
  const command = program
    .command('validate')
    .description('check manifests as the API server and kube-proxy would, reporting every problem')
    .argument('[files...]', 'manifest files or folders, as pre-commit passes them (same as -f)')
    .option('-f, --file <path>', "manifest file, folder (recursive) or '-' for stdin; repeatable", appendFile)
    .option('--format <format>', `report as ${REPORT_FORMATS.join(', ')} (all but text go to stdout)`, 'text')
    .option('-q, --quiet', 'no progress line on a terminal for large inputs')
    .option('-v, --verbose', 'list each object of a kind kpc does not read, not one line per kind')
    .addHelpText(
      'after',
      `
Exit status: 0 valid (warnings allowed), 1 a problem in the input, 2 usage error.

Examples:
  kpc validate -f manifests/
  kpc validate --format github $(git diff --name-only -- '*.yaml')
  helm template ./chart | kpc validate -f - --format junit > kpc-junit.xml`,
    );
  addInputOptions(command).action(async (files: string[], flags: ValidateFlags) => {
    const format = parseFormat(flags.format);
    const options = inputOptionsFrom(flags);
    const paths = [...(flags.file ?? []), ...files];
    if (paths.length === 0) throw new UsageError('give the manifests to check: kpc validate FILE... or -f PATH');
    const sources = await readInputs(paths);
    const bytes = sources.reduce((sum, source) => sum + source.text.length, 0);
    const progress = Progress.onStderr({ quiet: flags.quiet, large: bytes >= LARGE_INPUT_BYTES });
    let result;
    try {
      result = validateSources(sources, options, (step) => progress.step(compileStepText(step)));
    } finally {
      progress.clear();
    }
    const { checked, unallocated } = result;
    const diagnostics = unallocated ? [...result.diagnostics, unallocatedWarning(sources.map((s) => s.name), unallocated)] : result.diagnostics;
    const report = { files: sources.map((s) => s.name), objects: checked, diagnostics };
    if (counts(report).errors) process.exitCode = 1;
    if (format === 'text') {
      printDiagnostics(diagnostics, flags.verbose);
      warnIfNoObjects(checked);
      printLine(summary(report));
    } else await writeStdout(formatReport(report, format));
  });
}

/** Services without a cluster IP get no rules without --simulate: one warning for them all, in every format. */
function unallocatedWarning(files: string[], unallocated: number): Diagnostic {
  return { severity: 'warning', file: files.length === 1 ? files[0]! : '(input)', line: null, object: null, field: null, message: simulateHint(unallocated) };
}

function parseFormat(text: string): ReportFormat {
  if (!(REPORT_FORMATS as readonly string[]).includes(text)) throw new UsageError(`--format ${JSON.stringify(text)}: use one of ${REPORT_FORMATS.join(', ')}`);
  return text as ReportFormat;
}
