import type { Command } from 'commander';
import { dump } from 'js-yaml';
import { simulateSources } from '../compile.js';
import { UsageError } from './errors.js';
import { appendFile, readInputs } from './inputs.js';
import { addNodeOptions, checkNodeFlags, nodeOptionsFrom, type RawNodeFlags } from './node-options.js';
import { writeAtomically, writeStdout } from './output.js';
import { addUsageNotes } from './help.js';
import { printDiagnostics, printLine } from './report.js';

interface SimulateFlags extends RawNodeFlags {
  file: string[];
  output?: string;
  format?: string;
  verbose?: boolean;
}

export function registerSimulate(program: Command): void {
  const command = program
    .command('simulate')
    .description('print the input as the control plane would complete it (cluster IPs, node ports, nodes, Ready pods for workloads, the EndpointSlices of Services with a selector) as one List that every command reads back')
    .requiredOption('-f, --file <path>', "manifest file, folder (recursive) or '-' for stdin; repeatable", appendFile)
    .option('-o, --output <path>', 'write here (atomically) instead of stdout')
    .option('--format <format>', 'yaml or json (default yaml)')
    .option('-v, --verbose', 'say on stderr what was allocated and where each pod was placed');
  addUsageNotes(command, '0 written, 1 invalid input or an allocation that cannot be made (nothing written), 2 usage error.', [
    'helm template ./chart | kpc simulate -f - --node-name node-a -o cluster.yaml',
    'kustomize build overlays/prod | kpc simulate -f - --service-cidr 10.96.0.0/12 --simulate-nodes 3 --format json',
  ]);
  addNodeOptions(command).action(async (flags: SimulateFlags) => {
    const format = flags.format ?? 'yaml';
    if (format !== 'yaml' && format !== 'json') throw new UsageError(`--format ${JSON.stringify(format)}: use yaml or json`);
    // This command always simulates; its own flags need no --simulate.
    const withSimulate = { ...flags, simulate: true };
    checkNodeFlags(withSimulate);
    const sources = await readInputs(flags.file);
    const result = simulateSources(sources, await nodeOptionsFrom(withSimulate));
    printDiagnostics(result.warnings);
    if (flags.verbose) for (const note of result.notes) printLine(note);
    const text = formatList(result.objects, format);
    if (flags.output) await writeAtomically(flags.output, [text]);
    else await writeStdout([text]);
  });
}

/** The objects as one kubectl-style List, in YAML (block style, no anchors, no folding) or JSON. */
export function formatList(objects: unknown[], format: 'yaml' | 'json'): string {
  const list = { apiVersion: 'v1', kind: 'List', items: objects };
  return format === 'json' ? `${JSON.stringify(list, null, 2)}\n` : dump(list, { noRefs: true, lineWidth: -1 });
}
