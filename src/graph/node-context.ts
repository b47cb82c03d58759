import type { KubeProxyConfiguration, Node, ServiceCIDR } from '../model/k8s.js';
import { canonicalIP, cidrContains, ipFamily, parseCIDR } from '../net/ip.js';
import type { IPFamily, NodeContext } from './types.js';

/** What the user said about the node, on the command line and in --config. */
export interface NodeOptions {
  nodeName?: string;
  nodeIPs?: string[];
  clusterCIDRs?: string[];
  /** --service-cidr: the ranges cluster IPs come from; when given, the input's ServiceCIDR objects are not used. */
  serviceCIDRs?: string[];
  zone?: string;
  masqueradeAll?: boolean;
  /** The host's iptables has --random-fully (default true). */
  randomFully?: boolean;
  /** The host's kernel has nfacct (default false). */
  nfacct?: boolean;
  config?: KubeProxyConfiguration;
}

const ZONE_LABEL = 'topology.kubernetes.io/zone';

/**
 * The node's context: flags win over --config, which wins over the Node object
 * of the same name, which wins over kube-proxy's defaults. The options are
 * assumed valid (the CLI checks them before the core runs).
 */
export function buildNodeContext(options: NodeOptions, nodes: Node[], serviceCIDRObjects: ServiceCIDR[] = []): NodeContext {
  const config = options.config ?? ({} as Partial<KubeProxyConfiguration>);
  const name = options.nodeName ?? config.hostnameOverride ?? '';
  const node = nodes.find((n) => n.metadata.name === name);
  const ips = nodeIPs(options.nodeIPs?.length ? options.nodeIPs : addressesOf(node));
  const cidrs = options.clusterCIDRs?.length ? options.clusterCIDRs : (config.clusterCIDR ?? '').split(',').filter(Boolean);
  const masqueradeBit = config.iptables?.masqueradeBit ?? 14;
  return {
    name,
    ips,
    clusterCIDR: { 4: firstOfFamily(cidrs, 4), 6: firstOfFamily(cidrs, 6) },
    serviceCIDRs: serviceCIDRs(options.serviceCIDRs?.length ? options.serviceCIDRs : serviceCIDRObjects.flatMap((o) => o.spec?.cidrs ?? [])),
    zone: options.zone ?? node?.metadata.labels?.[ZONE_LABEL] ?? null,
    labels: { ...(node?.metadata.labels ?? {}) },
    masqueradeAll: options.masqueradeAll ?? config.iptables?.masqueradeAll ?? false,
    masqueradeMark: `0x${(2 ** masqueradeBit).toString(16)}`,
    localhostNodePorts: config.iptables?.localhostNodePorts ?? true,
    nodePortAddresses: {
      4: nodePortAddresses(config.nodePortAddresses ?? [], 4, ips[4]),
      6: nodePortAddresses(config.nodePortAddresses ?? [], 6, ips[6]),
    },
    ipvsScheduler: config.ipvs?.scheduler || 'rr',
    ipvsStrictARP: config.ipvs?.strictARP ?? false,
    dropInvalidForwarded: !(config.conntrack?.tcpBeLiberal ?? false),
    randomFully: options.randomFully ?? true,
    nfacct: options.nfacct ?? false,
  };
}

function addressesOf(node: Node | undefined): string[] {
  const addresses = node?.status?.addresses ?? [];
  const pick = (type: string) => addresses.filter((a) => a.type === type).map((a) => a.address);
  return [...pick('InternalIP'), ...pick('ExternalIP')];
}

function nodeIPs(list: string[]): NodeContext['ips'] {
  const ips: NodeContext['ips'] = { 4: [], 6: [] };
  for (const ip of list) {
    const family = ipFamily(ip);
    const text = canonicalIP(ip);
    if (family && !ips[family].includes(text)) ips[family].push(text);
  }
  return ips;
}

function serviceCIDRs(texts: string[]): NodeContext['serviceCIDRs'] {
  const byFamily: NodeContext['serviceCIDRs'] = { 4: [], 6: [] };
  for (const text of texts) {
    const cidr = parseCIDR(text.trim());
    if (cidr && !byFamily[cidr.family].includes(cidr.text)) byFamily[cidr.family].push(cidr.text);
  }
  byFamily[4].sort();
  byFamily[6].sort();
  return byFamily;
}

function firstOfFamily(cidrs: string[], family: IPFamily): string | null {
  for (const text of cidrs) {
    const cidr = parseCIDR(text.trim());
    if (cidr?.family === family) return cidr.text;
  }
  return null;
}

/**
 * kube-proxy's nodePortAddresses for one family: no CIDR of that family means
 * every local address (null); otherwise the node's addresses inside those
 * CIDRs, where "primary" means the node's primary address.
 */
function nodePortAddresses(entries: string[], family: IPFamily, ips: string[]): string[] | null {
  const cidrs = entries.flatMap((entry) => {
    if (entry === 'primary') return ips.length ? [parseCIDR(ips[0]!)!] : [];
    const cidr = parseCIDR(entry);
    return cidr && cidr.family === family ? [cidr] : [];
  });
  if (cidrs.length === 0) return null;
  const loopback = family === 4 ? ['127.0.0.1'] : [];
  return [...ips, ...loopback].filter((ip) => cidrs.some((cidr) => cidrContains(cidr, ip)));
}
