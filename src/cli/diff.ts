import { addLayoutOption, parseLayout } from './layout-option.js';
import { stat, readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { compileGraph, emit, type Mode } from '../compile.js';
import { diffModels, type DiffReport } from '../diff/diff.js';
import { formatJson, formatStat, formatText, painter } from '../diff/format.js';
import { detectFormat, mergeModels, readRuleSet, type RuleSetModel } from '../read/index.js';
import { UsageError, UserError } from './errors.js';
import { parseMode } from './generate.js';
import { readInputs } from './inputs.js';
import { readLiveRules } from './live-rules.js';
import { addNodeOptions, nodeOptionsFrom, type RawNodeFlags } from './node-options.js';
import { writeStdout } from './output.js';
import { printDiagnostics } from './report.js';

interface DiffFlags extends RawNodeFlags {
  live?: boolean;
  mode?: string;
  output?: string;
  stat?: boolean;
  layout?: string;
}

/** One side of the comparison before it is read: a rule-set file, manifests, or the live host. */
type Side = { kind: 'rules'; name: string; text: string; mode: Mode } | { kind: 'manifests'; paths: string[] } | { kind: 'live' };

export function registerDiff(program: Command): void {
  const command = program
    .command('diff')
    .description('compare two rule sets by meaning (files in any mode, manifests, or --live); exit 0 same, 1 different, 2 trouble')
    .argument('[a]', 'rule set file (iptables-save, nft, ipvsadm) or manifests (file or folder)')
    .argument('[b]', 'the other side')
    .option('--live', "compare with this host's rules (as the first side)")
    .option('--mode <mode>', 'backend for manifests and --live (default: the mode of the rule file given, else nftables)')
    .option('-o, --output <format>', 'text (default) or json')
    .option('--stat', 'only counts');
  addNodeOptions(addLayoutOption(command)).action(async (a: string | undefined, b: string | undefined, flags: DiffFlags) => {
    const operands = [a, b].filter((x): x is string => x !== undefined);
    const sides: Side[] = await Promise.all(operands.map(classify));
    if (flags.live) sides.unshift({ kind: 'live' });
    if (sides.length !== 2) throw new UsageError('diff needs two sides: A B, or --live and one more');
    const mode = flags.mode ? parseMode(flags.mode) : (sides.find((s): s is Extract<Side, { kind: 'rules' }> => s.kind === 'rules')?.mode ?? 'nftables');
    parseLayout(flags.layout, mode);
    const [left, right] = await Promise.all(sides.map((side) => readSide(side, mode, flags)));
    const report = diffModels(left!, right!);
    await writeStdout(render(report, flags));
    process.exitCode = report.same ? 0 : 1;
  });
}

function render(report: DiffReport, flags: DiffFlags): string {
  if (flags.output === 'json') return formatJson(report);
  if (flags.output !== undefined && flags.output !== 'text') throw new UsageError(`-o ${JSON.stringify(flags.output)}: use text or json`);
  if (flags.stat) return formatStat(report);
  const foreign = [report.foreign.a.length, report.foreign.b.length];
  const note = foreign.some((n) => n > 0) ? `(not compared: ${foreign[0]} foreign rule(s) in the first side, ${foreign[1]} in the second)\n` : '';
  return formatText(report, painter(process.stdout)) + note;
}

async function classify(path: string): Promise<Side> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new UserError(`${path}: no such file or folder`);
  }
  if (info.isDirectory()) return { kind: 'manifests', paths: [path] };
  const text = await readFile(path, 'utf8');
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
      const families = mode === 'iptables' ? ([4, 6] as const) : ([4] as const);
      return mergeModels(families.map((family) => readRuleSet(emit(result.graph, { mode, family, layout: parseLayout(flags.layout, mode) }), mode)));
    }
  }
}
