import { addLayoutOption, parseLayout } from './layout-option.js';
import type { Command } from 'commander';
import { compileGraph, emit } from '../compile.js';
import { explainPacket, parseDestination, type Explanation, type NodeFacts, type Packet } from '../explain/index.js';
import { formatExplanation, formatExplanationJson } from '../explain/format.js';
import { canonicalIP, ipFamily } from '../net/ip.js';
import { detectFormat } from '../read/index.js';
import { UsageError, UserError } from './errors.js';
import { parseMode } from './generate.js';
import { appendFile, readInputFile, readInputs } from './inputs.js';
import { addNodeOptions, checkNodeFlags, nodeOptionsFrom, type RawNodeFlags } from './node-options.js';
import { writeAtomically, writeStdout } from './output.js';
import { printDiagnostics, printSimulation } from './report.js';
import { outputTarget, type OutputTarget } from './output-target.js';

interface ExplainFlags extends RawNodeFlags {
  from: string;
  to: string;
  file?: string[];
  mode?: string;
  rules?: string;
  output?: string;
  format?: string;
  layout?: string;
}

/**
 * What the trace comes to, for scripts. 1 and 2 keep kpc's meanings (invalid
 * input, usage), so a verdict never reads as an error: refused is 3, and a
 * destination no rule translates is 4 (it may reach the node or be forwarded,
 * which is not what a service address asks for).
 */
const EXIT_STATUS: Record<Explanation['result'], number> = { backend: 0, refused: 3, untranslated: 4 };

const IPVS_UNSUPPORTED = 'explain does not support IPVS yet: it traces iptables and nftables rule sets (generate with --mode iptables or --mode nftables)';

export function registerExplain(program: Command): void {
  const command = program
    .command('explain')
    .description('trace one packet through the rules as the kernel would: every rule it matches, then its possible outcomes')
    .addHelpText(
      'after',
      `
Exit status (the trace is printed or written in every case):
  0  every way the packet can go reaches a backend
  3  it is rejected or dropped on some way (or every way)
  4  nothing refuses it, but some way meets no rule that translates it: not a service address and port on this node
  1  invalid input (nothing written); 2 usage error

Examples:
  kpc explain -f manifests/ --mode nftables --node-name node-a --node-ip 192.0.2.10 --cluster-cidr 10.244.0.0/16 --from 10.244.1.5 --to 10.96.0.10:80
  sudo iptables-save | kpc explain --rules - --node-ip 192.0.2.10 --from 203.0.113.7 --to 192.0.2.10:30080/tcp --format json`,
    )
    .requiredOption('--from <ip>', "the packet's source: a pod IP, an outside client, or one of the node's own IPs (then it starts in OUTPUT)")
    .requiredOption('--to <dst:port[/proto]>', 'where it is sent: 10.96.0.10:80, 192.0.2.10:30080/tcp, [fd00::10]:53/udp (default tcp)')
    .option('-f, --file <path>', "manifests to compile first (file, folder or '-'); repeatable; needs --mode", appendFile)
    .option('--mode <mode>', 'with -f: iptables or nftables')
    .option('--rules <file>', "trace this rule set instead (iptables-save or nft text, '-' for stdin); give the node's addresses with --node-ip")
    .option('-o, --output <file>', 'write to FILE (atomically) instead of stdout')
    .option('--format <format>', 'text (default) or json');
  addNodeOptions(addLayoutOption(command)).action(async (flags: ExplainFlags) => {
    const packet = parsePacket(flags.from, flags.to);
    const target = outputTarget(flags.output, flags.format, ['text', 'json']);
    checkSource(flags);
    parseLayout(flags.layout, flags.rules !== undefined ? undefined : flags.mode);
    checkNodeFlags(flags);
    const { text, mode, node } = flags.rules !== undefined ? await fromRuleFile(flags.rules, flags) : await fromManifests(flags, packet);
    const explanation = explainPacket(text, mode, packet, node);
    if (!node.ips.length) explanation.warnings.unshift("no node address known (--node-ip): rules for the node's own addresses (node ports, addrtype LOCAL, fib type local) match only loopback");
    await write(target, target.format === 'json' ? formatExplanationJson(explanation) : formatExplanation(explanation));
    process.exitCode = EXIT_STATUS[explanation.result];
  });
}

function parsePacket(from: string, to: string): Packet {
  const family = ipFamily(from);
  if (!family) throw new UsageError(`--from ${JSON.stringify(from)} is not an IP address`);
  const destination = parseDestination(to);
  if (typeof destination === 'string') throw new UsageError(`--to ${JSON.stringify(to)}: ${destination}`);
  if (ipFamily(destination.ip) !== family) throw new UsageError(`--from ${from} and --to ${to} are of different IP families`);
  return { family, src: canonicalIP(from), dst: destination.ip, dport: destination.port, protocol: destination.protocol };
}

function checkSource(flags: ExplainFlags): void {
  const manifests = (flags.file?.length ?? 0) > 0;
  if (manifests === (flags.rules !== undefined)) throw new UsageError('give either -f MANIFESTS --mode MODE, or --rules FILE');
  if (manifests && flags.mode === undefined && flags.config === undefined) throw new UsageError('-f needs --mode iptables or --mode nftables (or a --config whose KubeProxyConfiguration sets mode)');
  if (flags.mode !== undefined && parseMode(flags.mode) === 'ipvs') throw new UsageError(IPVS_UNSUPPORTED);
}

interface RuleSource {
  text: string;
  mode: 'iptables' | 'nftables';
  node: NodeFacts;
}

/** Compiles the manifests and emits exactly the text generate would write, then traces that text. */
async function fromManifests(flags: ExplainFlags, packet: Packet): Promise<RuleSource> {
  const sources = await readInputs(flags.file!);
  const options = await nodeOptionsFrom(flags);
  const mode = traceableMode(flags.mode ?? options.config?.mode);
  const layout = parseLayout(flags.layout, mode);
  const result = compileGraph(sources, options);
  printDiagnostics(result.warnings);
  printSimulation(result, false);
  const { node } = result.graph;
  return {
    text: emit(result.graph, { mode, family: packet.family, layout }),
    mode,
    node: { ips: [...node.ips[4], ...node.ips[6]], clusterCIDRs: [node.clusterCIDR[4], node.clusterCIDR[6]].filter((c): c is string => c !== null) },
  };
}

/** The flag, else the KubeProxyConfiguration's mode (empty means iptables, as kube-proxy reads it on Linux). */
function traceableMode(mode: string | undefined): 'iptables' | 'nftables' {
  const parsed = mode ? parseMode(mode) : 'iptables';
  if (parsed === 'ipvs') throw new UsageError(IPVS_UNSUPPORTED);
  return parsed;
}

async function fromRuleFile(path: string, flags: ExplainFlags): Promise<RuleSource> {
  const text = path === '-' ? (await readInputs(['-']))[0]!.text : await readRules(path);
  const format = detectFormat(text);
  if (format === 'ipvs') throw new UsageError(IPVS_UNSUPPORTED);
  if (!format) throw new UserError(`${path}: not a rule set kpc can read (expected iptables-save or nft text)`);
  if (flags.mode !== undefined && flags.mode !== format) throw new UsageError(`--mode ${flags.mode}, but ${path} holds ${format} rules`);
  return { text, mode: format, node: { ips: flags.nodeIp, clusterCIDRs: flags.clusterCidr } };
}

function readRules(path: string): Promise<string> {
  return readInputFile(path, `${path}: no such file; check the path given to --rules`);
}

async function write(target: OutputTarget, text: string): Promise<void> {
  if (target.file) await writeAtomically(target.file, text);
  else await writeStdout(text);
}
