import type { Command } from 'commander';
import type { SimulateFlags } from '../compile.js';
import type { SimulateOptions } from '../simulate/index.js';
import type { ValidateOptions } from '../validate/index.js';
import { parseCIDR } from '../net/ip.js';
import { dns1123Label } from '../validate/names.js';
import { UsageError } from './errors.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** The flags every command that reads manifests shares, besides -f. */
export function addInputOptions(command: Command): Command {
  return command
    .option('-n, --namespace <namespace>', 'namespace of objects that name none, as kubectl apply -n (default "default")')
    .option('--service-cidr <cidr>', 'the range cluster IPs come from, one per IP family (default: the ServiceCIDR objects in the input; with --simulate and none, 10.96.0.0/12)', collect, [])
    .option(
      '--simulate',
      'add what the control plane would: cluster IPs, node ports, nodes, and Ready pods for Deployments, ReplicaSets, StatefulSets, DaemonSets and ReplicationControllers (not HPAs or Jobs)',
    )
    .option('--service-node-port-range <first-last>', 'with --simulate: where node ports come from (default 30000-32767)')
    .option('--load-balancer-pool <cidr>', 'with --simulate: where LoadBalancer ingress addresses come from, one per IP family (default: none, they stay pending)', collect, [])
    .option('--simulate-nodes <n>', 'with --simulate: this many nodes more, named sim-node-1, sim-node-2, ... (default 0; 1 when there would be no node)');
}

export interface RawInputFlags {
  namespace?: string;
  serviceCidr: string[];
  simulate?: boolean;
  serviceNodePortRange?: string;
  loadBalancerPool: string[];
  simulateNodes?: string;
}

/** Checks the input flags (a bad one is a usage error). */
export function inputOptionsFrom(flags: RawInputFlags): ValidateOptions & SimulateFlags & { serviceCIDRs: string[] } {
  const options: ValidateOptions & SimulateFlags & { serviceCIDRs: string[] } = { serviceCIDRs: flags.serviceCidr ?? [] };
  if (flags.namespace !== undefined) {
    const problem = dns1123Label(flags.namespace);
    if (problem) throw new UsageError(`--namespace ${JSON.stringify(flags.namespace)}: ${problem}`);
    options.namespace = flags.namespace;
  }
  checkCIDRFlag('--service-cidr', flags.serviceCidr ?? [], '10.96.0.0/12', 'as the API server takes one range per family');
  const simulate = simulateOptionsFrom(flags);
  if (simulate) options.simulate = simulate;
  return options;
}

function simulateOptionsFrom(flags: RawInputFlags): SimulateOptions | undefined {
  const pools = flags.loadBalancerPool ?? [];
  if (!flags.simulate) {
    const stray = [flags.serviceNodePortRange !== undefined && '--service-node-port-range', pools.length && '--load-balancer-pool', flags.simulateNodes !== undefined && '--simulate-nodes'].filter(Boolean);
    if (stray.length) throw new UsageError(`${stray[0]} only means something with --simulate; add --simulate or leave it out`);
    return undefined;
  }
  const options: SimulateOptions = {};
  if (flags.serviceNodePortRange !== undefined) options.nodePortRange = parsePortRange(flags.serviceNodePortRange);
  checkCIDRFlag('--load-balancer-pool', pools, '192.0.2.0/24', 'one pool per family');
  if (pools.length) options.loadBalancerPools = pools;
  if (flags.simulateNodes !== undefined) {
    if (!/^\d{1,4}$/.test(flags.simulateNodes) || Number(flags.simulateNodes) > 5000) throw new UsageError(`--simulate-nodes ${JSON.stringify(flags.simulateNodes)}: give a whole number from 0 to 5000`);
    options.extraNodes = Number(flags.simulateNodes);
  }
  return options;
}

/** `30000-32767`, as the API server's --service-node-port-range takes it. */
function parsePortRange(text: string): [number, number] {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(text);
  const [first, last] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
  if (!match || first < 1 || last > 65535 || first > last) throw new UsageError(`--service-node-port-range ${JSON.stringify(text)}: give FIRST-LAST with 1 <= FIRST <= LAST <= 65535, such as 30000-32767`);
  return [first, last];
}

/** A repeatable CIDR flag: each a CIDR, at most one per family. */
export function checkCIDRFlag(flag: string, texts: string[], example: string, why: string): void {
  const families = new Set<number>();
  for (const text of texts) {
    const cidr = text.includes('/') ? parseCIDR(text) : null;
    if (!cidr) throw new UsageError(`${flag} ${JSON.stringify(text)} is not a CIDR such as ${example}`);
    if (families.has(cidr.family)) throw new UsageError(`${flag}: give at most one IPv${cidr.family} CIDR (${why})`);
    families.add(cidr.family);
  }
}
