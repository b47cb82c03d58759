import type { Command } from 'commander';
import { validateSources } from '../compile.js';
import { counts, formatReport, REPORT_FORMATS, summary, type ReportFormat } from '../report/formats.js';
import { UsageError } from './errors.js';
import { addInputOptions, inputOptionsFrom, type RawInputFlags } from './input-options.js';
import { appendFile, readInputs } from './inputs.js';
import { writeStdout } from './output.js';
import { compileStepText, LARGE_INPUT_BYTES, Progress } from './progress.js';
import { printDiagnostics, printLine, warnIfNoObjects } from './report.js';

interface ValidateFlags extends RawInputFlags {
  file?: string[];
  format: string;
  quiet?: boolean;
}

export function registerValidate(program: Command): void {
  const command = program
    .command('validate')
    .description('check manifests as the API server and kube-proxy would, reporting every problem')
    .argument('[files...]', 'manifest files or folders, as pre-commit passes them (same as -f)')
    .option('-f, --file <path>', "manifest file, folder (recursive) or '-' for stdin; repeatable", appendFile)
    .option('--format <format>', `report as ${REPORT_FORMATS.join(', ')} (all but text go to stdout)`, 'text')
    .option('-q, --quiet', 'no progress line on a terminal for large inputs')
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
    const { diagnostics, checked } = result;
    const report = { files: sources.map((s) => s.name), objects: checked, diagnostics };
    if (counts(report).errors) process.exitCode = 1;
    if (format === 'text') {
      printDiagnostics(diagnostics);
      warnIfNoObjects(checked);
      printLine(summary(report));
    } else await writeStdout(formatReport(report, format));
  });
}

function parseFormat(text: string): ReportFormat {
  if (!(REPORT_FORMATS as readonly string[]).includes(text)) throw new UsageError(`--format ${JSON.stringify(text)}: use one of ${REPORT_FORMATS.join(', ')}`);
  return text as ReportFormat;
}
