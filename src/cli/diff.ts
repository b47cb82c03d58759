import { addLayoutOption, parseLayout } from './layout-option.js';
import type { Command } from 'commander';
import { compileGraph, emit, type Mode } from '../compile.js';
import { diffModels, type DiffReport } from '../diff/diff.js';
import { formatJson, formatStat, formatText, painter } from '../diff/format.js';
import { detectFormat, mergeModels, readRuleSet, type RuleSetModel } from '../read/index.js';
import { UsageError, UserError } from './errors.js';
import { parseMode } from './generate.js';
import { readInputFile, readInputs, statPath } from './inputs.js';
import { readLiveRules } from './live-rules.js';
import { addNodeOptions, nodeOptionsFrom, type RawNodeFlags } from './node-options.js';
import { writeAtomically, writeStdout } from './output.js';
import { addUsageNotes } from './help.js';
import { outputTarget } from './output-target.js';
import { printDiagnostics, printSimulation } from './report.js';

interface DiffFlags extends RawNodeFlags {
  live?: boolean;
  mode?: string;
  output?: string;
  format?: string;
  stat?: boolean;
  layout?: string;
}

/** One side of the comparison before it is read: a rule-set file, manifests, or the live host. */
type Side = { kind: 'rules'; name: string; text: string; mode: Mode } | { kind: 'manifests'; paths: string[] } | { kind: 'live' };

/**
 * Two sides without a single frontend would compare as "same" whatever they
 * hold: two EndpointSlice dumps of a failover with no Service, two empty
 * files, rules that are all foreign. That is trouble (exit 2), not sameness.
 */
const NOTHING_TO_COMPARE =
  'nothing to compare: neither side has a service frontend (a cluster IP, node port or external address with rules); EndpointSlices and Endpoints give rules only with their Service, so give its manifest too';

export function registerDiff(program: Command): void {
  const command = program
    .command('diff')
    .description('compare two rule sets by meaning (files in any mode, manifests, or --live); exit 0 same, 1 different, 2 trouble')
    .argument('[a]', 'rule set file (iptables-save, nft, ipvsadm) or manifests (file or folder)')
    .argument('[b]', 'the other side')
    .option('--live', "compare with this host's rules (as the first side)")
    .option('--mode <mode>', 'backend for manifests and --live (default: the mode of the rule file given, else nftables)')
    .option('--format <format>', 'text (default) or json')
    .option('-o, --output <file>', 'write the report here (atomically) instead of stdout')
    .option('--stat', 'only counts');
  addUsageNotes(command, '0 same, 1 different, 2 trouble (invalid input, nothing to compare, a usage error), as diff(1).', [
    'kpc diff before.rules after.rules',
    'kpc diff --live manifests/ --mode iptables --node-name "$(hostname)" --node-ip 192.0.2.10',
    'kpc diff --simulate old/ new/ --mode nftables --node-name node-a --format json',
  ]);
  addNodeOptions(addLayoutOption(command)).action(async (a: string | undefined, b: string | undefined, flags: DiffFlags) => {
    // Flags first: a usage error must not pass for an input error.
    const target = outputTarget(flags.output, flags.format, ['text', 'json']);
    const operands = [a, b].filter((x): x is string => x !== undefined);
    const sides: Side[] = await Promise.all(operands.map(classify));
    if (flags.live) sides.unshift({ kind: 'live' });
    if (sides.length !== 2) throw new UsageError('diff needs two sides: A B, or --live and one more');
    const mode = flags.mode ? parseMode(flags.mode) : (sides.find((s): s is Extract<Side, { kind: 'rules' }> => s.kind === 'rules')?.mode ?? 'nftables');
    parseLayout(flags.layout, mode);
    const [left, right] = await Promise.all(sides.map((side) => readSide(side, mode, flags)));
    if (left!.frontends.size === 0 && right!.frontends.size === 0) throw new UserError(NOTHING_TO_COMPARE);
    const report = diffModels(left!, right!);
    const text = render(report, target.format, flags.stat === true, target.file === null);
    if (target.file) await writeAtomically(target.file, text);
    else await writeStdout(text);
    process.exitCode = report.same ? 0 : 1;
  });
}

function render(report: DiffReport, format: string, stat: boolean, toTerminal: boolean): string {
  if (format === 'json') return formatJson(report);
  if (stat) return formatStat(report);
  const foreign = [report.foreign.a.length, report.foreign.b.length];
  const note = foreign.some((n) => n > 0) ? `(not compared: ${foreign[0]} foreign rule(s) in the first side, ${foreign[1]} in the second)\n` : '';
  return formatText(report, toTerminal ? painter(process.stdout) : painter({ isTTY: false }, {})) + note;
}

async function classify(path: string): Promise<Side> {
  const info = await statPath(path, `${path}: no such file or folder`);
  if (info.isDirectory()) return { kind: 'manifests', paths: [path] };
  const text = await readInputFile(path, `${path}: no such file or folder`);
  const format = detectFormat(text);
  return format ? { kind: 'rules', name: path, text, mode: format } : { kind: 'manifests', paths: [path] };
}

async function readSide(side: Side, mode: Mode, flags: DiffFlags): Promise<RuleSetModel> {
  switch (side.kind) {
    case 'rules':
      return readRuleSet(side.text, side.mode);
    case 'live':
      return mergeModels((await readLiveRules(mode)).map((text) => readRuleSet(text, mode)));
    case 'manifests': {
      const result = compileGraph(await readInputs(side.paths), await nodeOptionsFrom(flags));
      printDiagnostics(result.warnings);
      printSimulation(result, false);
      const families = mode === 'iptables' ? ([4, 6] as const) : ([4] as const);
      return mergeModels(families.map((family) => readRuleSet(emit(result.graph, { mode, family, layout: parseLayout(flags.layout, mode) }), mode)));
    }
  }
}
