import type { Command } from 'commander';
import { compileGraph } from '../compile.js';
import { InputError } from '../diagnostics/diagnostic.js';
import type { IPFamily, RoutingGraph } from '../graph/types.js';
import { nftFamilies } from '../emit/nftables/index.js';
import { ApplyError, applyGraph, ApplyRefusedError, DEFAULT_RUN_DIR, formatServiceChanges, HostError, type ApplyMode, type ApplyReport } from '../apply/index.js';
import { hostProblem, missingTools, toolsFor } from '../apply/preflight.js';
import { UsageError, UserError } from './errors.js';
import { parseMode } from './generate.js';
import { appendFile, readInputs } from './inputs.js';
import { addNodeOptions, checkNodeFlags, nodeOptionsFrom, type RawNodeFlags } from './node-options.js';
import { addUsageNotes } from './help.js';
import { writeStdout } from './output.js';
import { compileStepText, Progress } from './progress.js';
import { printDiagnostics, printSimulation } from './report.js';
import { addLayoutOption, parseLayout } from './layout-option.js';

interface ApplyFlags extends RawNodeFlags {
  file: string[];
  mode: string;
  family?: string;
  dryRun?: boolean;
  allowEmpty?: boolean;
  full?: boolean;
  quiet?: boolean;
  layout?: string;
}

export function registerApply(program: Command): void {
  const command = program
    .command('apply')
    .description("load the rules into this host's kernel: only kpc's own rules are replaced, atomically; a repeat changes nothing")
    .requiredOption('-f, --file <path>', "manifest file, folder (recursive) or '-' for stdin; repeatable", appendFile)
    .requiredOption('--mode <mode>', 'backend: iptables, ipvs, nftables')
    .option('--family <family>', 'iptables mode: apply only ipv4 or only ipv6 (default: every family the node uses)')
    .option('--dry-run', 'show what would change (a diff of kpc\'s rules, live to new) and change nothing')
    .option('--allow-empty', 'apply even an input with no objects, or one that removes every Service kpc has on this host (refused otherwise)')
    .option('--full', "load every rule even when the host still holds kpc's last rules (by default only the differences are sent then)")
    .option('-q, --quiet', 'no progress line on a terminal');
  addUsageNotes(command, '0 applied (or nothing to change), 1 invalid input, a refused input or a failed apply (the previous rules stay), 2 usage error.', [
    'sudo kpc apply -f manifests/ --mode nftables --node-name node-a --node-ip 192.0.2.10 --cluster-cidr 10.244.0.0/16 --dry-run',
    'sudo kpc apply -f manifests/ --mode iptables --node-name node-a --node-ip 192.0.2.10 --cluster-cidr 10.244.0.0/16',
  ]);
  addNodeOptions(addLayoutOption(command)).action(async (flags: ApplyFlags) => {
    const mode = parseMode(flags.mode) as ApplyMode;
    const layout = parseLayout(flags.layout, mode);
    const family = parseFamily(flags.family);
    checkNodeFlags(flags);
    const problem = hostProblem();
    if (problem) throw new UserError(problem);
    const sources = await readInputs(flags.file);
    const nodeOptions = await nodeOptionsFrom(flags);
    // An apply is long whatever the input: it reads and checks rules through the kernel.
    const progress = Progress.onStderr({ quiet: flags.quiet, large: true });
    let graph: RoutingGraph;
    let objects: number;
    try {
      const result = compileGraph(sources, nodeOptions, (step) => progress.step(compileStepText(step)));
      progress.clear();
      printDiagnostics(result.warnings);
      printSimulation(result, false);
      graph = result.graph;
      objects = result.checked;
    } catch (error) {
      progress.clear();
      if (!(error instanceof InputError)) throw error;
      printDiagnostics(error.diagnostics);
      const count = error.diagnostics.filter((d) => d.severity === 'error').length;
      throw new UserError(`${count} problem${count === 1 ? '' : 's'} in the input; nothing was applied, the host's rules are as they were`);
    }
    const families = family ? [family] : nftFamilies(graph);
    const missing = missingTools(toolsFor(mode, families));
    if (missing.length) throw new UserError(`kpc apply --mode ${mode} needs ${missing.join(', ')}, not found on PATH; install them (iptables, nftables, ipset, ipvsadm, iproute2, util-linux); nothing was changed`);
    let report: ApplyReport;
    try {
      report = await applyGraph(graph, {
        mode,
        layout,
        families: mode === 'iptables' ? families : undefined,
        dryRun: flags.dryRun,
        inputObjects: objects,
        allowEmpty: flags.allowEmpty,
        full: flags.full,
        runDir: process.env.KPC_RUN_DIR || DEFAULT_RUN_DIR,
        onStep: (step) => progress.step(step),
        // Said before anything changes, so a user sees what goes even if the commit then fails.
        onServices: async (summary) => {
          progress.clear();
          await writeStdout(`${summary}\n`);
        },
      });
    } catch (error) {
      if (error instanceof ApplyRefusedError) {
        progress.clear();
        if (error.services) await writeStdout(`${formatServiceChanges(error.services)}\n`);
        throw new UserError(error.message);
      }
      if (error instanceof ApplyError || error instanceof HostError) throw new UserError(`apply failed: ${error.message}`);
      throw error;
    } finally {
      progress.clear();
    }
    await writeStdout(describe(report));
    if (report.refused) throw new UserError(report.refused.replace(/^refusing to apply/, 'kpc apply would refuse this'));
  });
}

function parseFamily(family: string | undefined): IPFamily | undefined {
  if (family === undefined) return undefined;
  if (family === 'ipv4') return 4;
  if (family === 'ipv6') return 6;
  throw new UsageError(`--family ${JSON.stringify(family)}: use ipv4 or ipv6`);
}

export function describe(report: ApplyReport): string {
  const lines: string[] = [];
  if (report.dryRun) {
    if (report.semantic) lines.push('By service port (as kpc diff reads them):', report.semantic.trimEnd(), '');
    if (report.diff) lines.push(report.diff.trimEnd());
    if (report.services) lines.push(formatServiceChanges(report.services));
    if (report.refused) lines.push('dry run: kpc apply would refuse this without --allow-empty (the reason follows on stderr); nothing was changed');
    else lines.push(report.changed ? `dry run: would replace kpc's rules in ${report.applied.join(', ')}; nothing was changed` : `dry run: no change: the live rules already are these (${report.mode})`);
  } else if (report.changed) {
    lines.push(`applied: kpc's rules replaced in ${report.applied.join(', ')}`);
  } else {
    lines.push(`no change: the live rules already are these (${report.mode})`);
  }
  for (const command of report.conntrack) lines.push(`conntrack: ${command}`);
  return lines.join('\n') + '\n';
}
