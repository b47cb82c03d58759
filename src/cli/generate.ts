import type { Command } from 'commander';
import { compileGraph, emitChunks, type Mode } from '../compile.js';
import type { IPFamily, RoutingGraph } from '../graph/types.js';
import { UsageError, UserError } from './errors.js';
import { addNodeOptions, checkNodeFlags, nodeOptionsFrom, type RawNodeFlags } from './node-options.js';
import { appendFile, readInputs } from './inputs.js';
import { writeAtomically, writeFilesAtomically, writeStdout } from './output.js';
import { IPVS_FILES, emitIpvsPartChunks } from '../emit/ipvs/index.js';
import { compileStepText, LARGE_INPUT_BYTES, Progress } from './progress.js';
import { printDiagnostics, printLine } from './report.js';
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
    .option('-o, --output <path>', 'write here (atomically) instead of stdout; for --mode ipvs a folder that gets one file per part')
    .option('--family <family>', 'iptables mode: ipv4 (iptables-restore) or ipv6 (ip6tables-restore)')
    .option('-v, --verbose', 'say on stderr why services are skipped and how endpoints were chosen')
    .option('-q, --quiet', 'no progress line on a terminal for large inputs');
  addNodeOptions(addLayoutOption(command)).action(async (flags: GenerateFlags) => {
    // Every flag is checked before any file is read: a usage error must not pass for an input error.
    if (flags.mode === undefined && flags.config === undefined) throw new UsageError('--mode is required (or a --config whose KubeProxyConfiguration sets mode)');
    if (flags.mode !== undefined) parseMode(flags.mode);
    parseLayout(flags.layout, flags.mode);
    const familyFlag = parseFamily(flags.family);
    checkNodeFlags(flags);
    const sources = await readInputs(flags.file);
    const nodeOptions = await nodeOptionsFrom(flags);
    const mode = modeFrom(flags.mode, nodeOptions.config?.mode);
    const layout = parseLayout(flags.layout, mode);
    const bytes = sources.reduce((sum, source) => sum + source.text.length, 0);
    const progress = Progress.onStderr({ quiet: flags.quiet, large: bytes >= LARGE_INPUT_BYTES });
    try {
      const result = compileGraph(sources, nodeOptions, (step) => progress.step(compileStepText(step)));
      progress.clear();
      printDiagnostics(result.warnings);
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
