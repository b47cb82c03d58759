import type { Command } from 'commander';
import { InputError } from '../diagnostics/diagnostic.js';
import type { CompileOptions } from '../compile.js';
import { loadSources } from '../load/documents.js';
import type { KubeProxyConfiguration } from '../model/k8s.js';
import { ipFamily } from '../net/ip.js';
import { dns1123Subdomain, labelValue } from '../validate/names.js';
import { validateObjects } from '../validate/index.js';
import { UsageError } from './errors.js';
import { readInputs } from './inputs.js';
import { addInputOptions, checkCIDRFlag, inputOptionsFrom, type RawInputFlags } from './input-options.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** The node-context flags (and the input flags) generate, apply, diff, explain and graph share. */
export function addNodeOptions(command: Command): Command {
  return addInputOptions(command)
    .option('--node-name <name>', 'the node to compile for (endpoints on it are local)')
    .option('--node-ip <ip>', "the node's address; repeat for more (first of each family is primary)", collect, [])
    .option('--cluster-cidr <cidr>', 'the pod network, one per IP family; repeat for dual stack', collect, [])
    .option('--zone <zone>', "the node's topology zone (default: its Node object's label)")
    .option('--masquerade-all', 'masquerade all traffic to cluster IPs, as kube-proxy --masquerade-all')
    .option('--no-random-fully', "the host's iptables lacks MASQUERADE --random-fully, so kube-proxy leaves it out")
    .option('--nfacct', "the host's kernel has nfacct, so kube-proxy's iptables mode adds its -m nfacct counting rules")
    .option('--config <file>', "kube-proxy's KubeProxyConfiguration file");
}

export interface RawNodeFlags extends RawInputFlags {
  nodeName?: string;
  nodeIp: string[];
  clusterCidr: string[];
  zone?: string;
  masqueradeAll?: boolean;
  randomFully?: boolean;
  nfacct?: boolean;
  config?: string;
}

/** Checks the flags (a bad one is a usage error) and reads --config (a bad file is an input error). */
export async function nodeOptionsFrom(flags: RawNodeFlags): Promise<CompileOptions> {
  checkNodeFlags(flags);
  const options: CompileOptions = {
    ...inputOptionsFrom(flags),
    nodeName: flags.nodeName,
    nodeIPs: flags.nodeIp,
    clusterCIDRs: flags.clusterCidr,
    zone: flags.zone,
    masqueradeAll: flags.masqueradeAll,
    randomFully: flags.randomFully,
    nfacct: flags.nfacct,
  };
  if (flags.config !== undefined) options.config = await readConfig(flags.config);
  return options;
}

/** The node flags alone, checked before any file is read so that a usage error is reported as one. */
export function checkNodeFlags(flags: RawNodeFlags): void {
  if (flags.nodeName !== undefined && dns1123Subdomain(flags.nodeName)) throw new UsageError(`--node-name ${JSON.stringify(flags.nodeName)}: ${dns1123Subdomain(flags.nodeName)}`);
  if (flags.zone !== undefined && labelValue(flags.zone)) throw new UsageError(`--zone ${JSON.stringify(flags.zone)}: ${labelValue(flags.zone)}`);
  for (const ip of flags.nodeIp) if (!ipFamily(ip)) throw new UsageError(`--node-ip ${JSON.stringify(ip)} is not an IP address`);
  inputOptionsFrom(flags);
  checkCIDRFlag('--cluster-cidr', flags.clusterCidr, '10.244.0.0/16', 'kube-proxy detects pod traffic by one CIDR per family');
}

/** --config: one KubeProxyConfiguration, checked like any manifest (see validate/kube-proxy-config.ts). */
async function readConfig(path: string): Promise<KubeProxyConfiguration> {
  const loaded = loadSources(await readInputs([path]));
  const validated = validateObjects(loaded.objects);
  const diagnostics = [...loaded.diagnostics, ...validated.diagnostics];
  if (diagnostics.some((d) => d.severity === 'error')) throw new InputError(diagnostics);
  if (validated.configs.length !== 1) {
    throw new InputError([{ severity: 'error', file: path, line: null, object: null, field: null, message: 'must hold exactly one KubeProxyConfiguration (apiVersion kubeproxy.config.k8s.io/v1alpha1)' }]);
  }
  return validated.configs[0]!.value;
}
