import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { compileGraph, emitChunks, type Mode } from '../compile.js';
import type { IPFamily, RoutingGraph } from '../graph/types.js';
import { UsageError, UserError } from './errors.js';
import { addNodeOptions, checkNodeFlags, nodeOptionsFrom, type RawNodeFlags } from './node-options.js';
import { appendFile, readInputs } from './inputs.js';
import { writeAtomically, writeFilesAtomically, writeStdout } from './output.js';
import { IPVS_FILES, emitIpvsPartChunks } from '../emit/ipvs/index.js';
import { compileStepText, LARGE_INPUT_BYTES, Progress } from './progress.js';
import { addUsageNotes } from './help.js';
import { printDiagnostics, printLine, printSimulation, warnIfNoObjects } from './report.js';
import { addLayoutOption, parseLayout } from './layout-option.js';

const MODES: Mode[] = ['iptables', 'ipvs', 'nftables'];

interface GenerateFlags extends RawNodeFlags {
  file: string[];
  mode?: string;
  output?: string;
  family?: string;
  verbose?: boolean;
  quiet?: boolean;
  layout?: string;
}

export function registerGenerate(program: Command): void {
  const command = program
    .command('generate')
    .description("compile manifests into the rules kube-proxy would program on one node")
    .requiredOption('-f, --file <path>', "manifest file, folder (recursive) or '-' for stdin; repeatable", appendFile)
    .option('--mode <mode>', `backend: ${MODES.join(', ')} (required unless --config names one)`)
    .option('-o, --output <path>', 'write here (atomically) instead of stdout; for --mode ipvs an existing folder, or a path ending in / to create, that gets one file per part')
    .option('--family <family>', 'iptables mode: ipv4 (iptables-restore) or ipv6 (ip6tables-restore)')
    .option('-v, --verbose', 'say on stderr why services are skipped and how endpoints were chosen')
    .option('-q, --quiet', 'no progress line on a terminal for large inputs');
  addUsageNotes(command, '0 written, 1 invalid input (nothing written), 2 usage error.', [
    'kpc generate -f manifests/ --mode nftables --node-name node-a --node-ip 192.0.2.10 --cluster-cidr 10.244.0.0/16 -o rules.nft',
    'kubectl get svc,endpointslices,nodes -A -o json | kpc generate -f - --mode iptables --node-name "$(hostname)"',
    'helm template ./chart | kpc generate -f - --simulate --mode ipvs --node-name node-a -o ipvs/',
  ]);
  addNodeOptions(addLayoutOption(command)).action(async (flags: GenerateFlags) => {
    // Every flag is checked before any file is read: a usage error must not pass for an input error.
    if (flags.mode === undefined && flags.config === undefined) throw new UsageError('--mode is required (or a --config whose KubeProxyConfiguration sets mode)');
    parseLayout(flags.layout, flags.mode);
    const familyFlag = parseFamily(flags.family);
    if (flags.mode !== undefined) await checkModeFlags(parseMode(flags.mode), '', familyFlag, flags.output);
    checkNodeFlags(flags);
    const sources = await readInputs(flags.file);
    const nodeOptions = await nodeOptionsFrom(flags);
    const mode = modeFrom(flags.mode, nodeOptions.config?.mode);
    if (flags.mode === undefined) await checkModeFlags(mode, ' (from --config)', familyFlag, flags.output);
    const layout = parseLayout(flags.layout, mode);
    const bytes = sources.reduce((sum, source) => sum + source.text.length, 0);
    const progress = Progress.onStderr({ quiet: flags.quiet, large: bytes >= LARGE_INPUT_BYTES });
    try {
      const result = compileGraph(sources, nodeOptions, (step) => progress.step(compileStepText(step)));
      progress.clear();
      printDiagnostics(result.warnings, flags.verbose);
      warnIfNoObjects(result.checked);
      printSimulation(result, flags.verbose === true);
      if (flags.verbose) describeChoices(result.graph);
      const family = familyFlag ?? defaultFamily(result.graph);
      if (flags.output) progress.step(`writing ${mode} rules to a file`);
      if (mode === 'ipvs' && flags.output) {
        await writeFilesAtomically(flags.output, emitIpvsPartChunks(result.graph).map((part) => ({ name: IPVS_FILES[part.name], content: part.chunks })));
        return;
      }
      // Chunks go out as they are: a large rule set is never also one string.
      const chunks = emitChunks(result.graph, { mode, family, layout });
      if (flags.output) await writeAtomically(flags.output, chunks);
      else await writeStdout(chunks);
    } finally {
      progress.clear();
    }
  });
}

export function parseMode(mode: string): Mode {
  if (!MODES.includes(mode as Mode)) throw new UsageError(`--mode ${JSON.stringify(mode)}: use one of ${MODES.join(', ')}`);
  return mode as Mode;
}

/** The flag wins; otherwise kube-proxy's own default for an empty mode on Linux, iptables. */
function modeFrom(flag: string | undefined, configured: string | undefined): Mode {
  if (flag !== undefined) return parseMode(flag);
  if (configured === undefined || configured === '') return 'iptables';
  if (configured === 'kernelspace') throw new UserError('the KubeProxyConfiguration says mode: kernelspace (Windows); kpc compiles iptables, ipvs and nftables; pass --mode');
  return parseMode(configured);
}

function parseFamily(family: string | undefined): IPFamily | undefined {
  if (family === undefined) return undefined;
  if (family === 'ipv4') return 4;
  if (family === 'ipv6') return 6;
  throw new UsageError(`--family ${JSON.stringify(family)}: use ipv4 or ipv6`);
}

/** The flags whose meaning depends on the mode; `from` says where the mode came from, for the message. */
async function checkModeFlags(mode: Mode, from: string, family: IPFamily | undefined, output: string | undefined): Promise<void> {
  checkFamilyFits(family, mode, from);
  if (mode === 'ipvs' && output !== undefined) await checkIpvsFolder(output);
}

/**
 * IPVS mode's -o is a folder for its part files. A path that is no folder and
 * does not end in / was most likely meant as one file (`-o out.txt`): refuse
 * it rather than quietly make a folder of that name.
 */
async function checkIpvsFolder(path: string): Promise<void> {
  const what = 'IPVS mode writes one file per part into a folder';
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Anything else (a folder kpc may not read) is reported when the files are written.
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return;
  }
  if (info?.isDirectory()) return;
  if (info) throw new UsageError(`-o ${path}: ${what}, and this is a file; give a folder`);
  if (!path.endsWith('/')) throw new UsageError(`-o ${path}: ${what}, and there is no folder of that name; give an existing folder, or end the path with / to create it`);
}

/** What each mode writes instead of one family's rules, for the message that refuses --family there. */
const BOTH_FAMILIES: Partial<Record<Mode, string>> = {
  nftables: 'writes both families into one file (table ip and table ip6)',
  ipvs: "writes both families' parts (iptables and ip6tables)",
};

/**
 * --family picks iptables-restore or ip6tables-restore. nftables and IPVS
 * output always holds both families, so --family there could not be honoured:
 * a usage error rather than a warning, since a script asking for IPv6 only
 * would otherwise load IPv4 rules too without noticing.
 */
function checkFamilyFits(family: IPFamily | undefined, mode: Mode, from: string): void {
  const both = BOTH_FAMILIES[mode];
  if (family !== undefined && both !== undefined) throw new UsageError(`--family is for iptables mode only: ${mode} mode${from} ${both}; leave --family out`);
}

/** iptables handles one family per script: IPv4 unless asked, or unless the node has only IPv6 addresses. */
function defaultFamily(graph: RoutingGraph): IPFamily {
  return graph.node.ips[4].length === 0 && graph.node.ips[6].length > 0 ? 6 : 4;
}

/** --verbose: why Services were skipped and how each port's endpoints were chosen. */
function describeChoices(graph: RoutingGraph): void {
  for (const skipped of graph.skipped) printLine(`skipped ${skipped.namespace}/${skipped.name}: ${skipped.reason}`);
  for (const route of graph.servicePorts) {
    const choice = `${route.clusterEndpoints.length} cluster / ${route.localEndpoints.length} local endpoints`;
    const health = route.healthCheckNodePort === null ? [] : [`health check node port ${route.healthCheckNodePort}`];
    printLine(`${route.servicePortName} ${route.protocol} IPv${route.family}: ${choice}; ${[...route.notes, ...health].join('; ')}`);
  }
}
