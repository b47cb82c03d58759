import type { Endpoint, EndpointSet, IPFamily, NodeContext, RoutingGraph, ServicePortRoute } from '../../graph/types.js';
import { assertCommentText, assertToken } from '../safe-text.js';
import { endpointChain, portChains, type PortChains } from './names.js';
import { probability } from './probability.js';
import { NFACCT, writeForwardChain, writeMasqueradeChains } from './shared-chains.js';
import { Table, comment } from './table.js';

/** Fixed chain names, as kube-proxy declares them. */
export const CHAIN = {
  services: 'KUBE-SERVICES',
  externalServices: 'KUBE-EXTERNAL-SERVICES',
  nodePorts: 'KUBE-NODEPORTS',
  forward: 'KUBE-FORWARD',
  proxyFirewall: 'KUBE-PROXY-FIREWALL',
  kubeletFirewall: 'KUBE-FIREWALL',
  postrouting: 'KUBE-POSTROUTING',
  markMasq: 'KUBE-MARK-MASQ',
} as const;

export interface IptablesTables {
  filter: Table;
  nat: Table;
}

interface Context extends IptablesTables {
  node: NodeContext;
  /** kube-proxy's "large cluster mode": endpoint rules carry no comment. */
  largeCluster: boolean;
}

/**
 * kube-proxy's largeClusterEndpointsThreshold: above this many endpoints (every
 * endpoint of every service port of the family, ready or not), it leaves the
 * comments out of the endpoint rules, which makes iptables-restore's input up
 * to 40% smaller.
 */
export const LARGE_CLUSTER_ENDPOINTS = 1000;

function isLargeCluster(graph: RoutingGraph, family: IPFamily): boolean {
  let total = 0;
  for (const route of graph.servicePorts) if (route.family === family) total += route.endpoints.length;
  return total > LARGE_CLUSTER_ENDPOINTS;
}

/**
 * Translates the routing graph into kube-proxy's iptables rules for one IP
 * family. Every decision (which chain, reject or drop, what to masquerade)
 * was made in the graph; this only spells it in iptables.
 */
export function buildIptables(graph: RoutingGraph, family: IPFamily): IptablesTables {
  const filter = new Table('filter', ['INPUT', 'FORWARD', 'OUTPUT']);
  const nat = new Table('nat', ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']);
  const tables: Context = { filter, nat, node: graph.node, largeCluster: isLargeCluster(graph, family) };
  const kubeletFirewall = family === 4 && graph.node.localhostNodePorts;
  writeJumps(tables, kubeletFirewall);
  writeFixedChains(tables, graph, kubeletFirewall);
  for (const route of graph.servicePorts) {
    if (route.family === family) writeServicePort(tables, route);
  }
  writeNodePortsJump(nat, graph, family);
  writeForwardChain(filter, graph.node, graph.node.nfacct ? NFACCT.invalidDropped : null);
  return tables;
}

/** The jumps from the built-in chains, in the order a live kube-proxy node shows them. */
function writeJumps({ filter, nat }: IptablesTables, kubeletFirewall: boolean): void {
  for (const chain of [CHAIN.services, CHAIN.externalServices, CHAIN.forward, CHAIN.nodePorts, CHAIN.proxyFirewall]) filter.declare(chain);
  if (kubeletFirewall) filter.declare(CHAIN.kubeletFirewall);
  for (const chain of [CHAIN.services, CHAIN.nodePorts, CHAIN.postrouting, CHAIN.markMasq]) nat.declare(chain);
  const isNew = '-m conntrack --ctstate NEW';
  filter.add('INPUT', isNew, comment('kubernetes load balancer firewall'), `-j ${CHAIN.proxyFirewall}`);
  filter.add('INPUT', comment('kubernetes health check service ports'), `-j ${CHAIN.nodePorts}`);
  filter.add('INPUT', isNew, comment('kubernetes externally-visible service portals'), `-j ${CHAIN.externalServices}`);
  if (kubeletFirewall) filter.add('INPUT', `-j ${CHAIN.kubeletFirewall}`);
  filter.add('FORWARD', isNew, comment('kubernetes load balancer firewall'), `-j ${CHAIN.proxyFirewall}`);
  filter.add('FORWARD', comment('kubernetes forwarding rules'), `-j ${CHAIN.forward}`);
  filter.add('FORWARD', isNew, comment('kubernetes service portals'), `-j ${CHAIN.services}`);
  filter.add('FORWARD', isNew, comment('kubernetes externally-visible service portals'), `-j ${CHAIN.externalServices}`);
  filter.add('OUTPUT', isNew, comment('kubernetes load balancer firewall'), `-j ${CHAIN.proxyFirewall}`);
  filter.add('OUTPUT', isNew, comment('kubernetes service portals'), `-j ${CHAIN.services}`);
  if (kubeletFirewall) filter.add('OUTPUT', `-j ${CHAIN.kubeletFirewall}`);
  nat.add('PREROUTING', comment('kubernetes service portals'), `-j ${CHAIN.services}`);
  nat.add('OUTPUT', comment('kubernetes service portals'), `-j ${CHAIN.services}`);
  nat.add('POSTROUTING', comment('kubernetes postrouting rules'), `-j ${CHAIN.postrouting}`);
}

function writeFixedChains({ filter, nat }: IptablesTables, graph: RoutingGraph, kubeletFirewall: boolean): void {
  writeMasqueradeChains(nat, graph.node);
  if (kubeletFirewall) {
    // route_localnet makes node ports answer on 127.0.0.1; this keeps other hosts from reaching localhost-bound services through it.
    filter.add(CHAIN.kubeletFirewall, comment('block incoming localnet connections'), '-d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP');
  }
}

function writeNodePortsJump(nat: Table, graph: RoutingGraph, family: IPFamily): void {
  const note = comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain');
  const addresses = graph.node.nodePortAddresses[family];
  if (addresses === null) {
    const exclude = family === 6 ? ' ! -d ::1/128' : graph.node.localhostNodePorts ? '' : ' ! -d 127.0.0.0/8';
    nat.add(CHAIN.services, note, `-m addrtype --dst-type LOCAL${exclude}`, `-j ${CHAIN.nodePorts}`);
    return;
  }
  for (const ip of addresses) {
    if (ip === '127.0.0.1' && !graph.node.localhostNodePorts) continue;
    nat.add(CHAIN.services, note, `-d ${assertToken(ip)}`, `-j ${CHAIN.nodePorts}`);
  }
}

function writeServicePort(tables: Context, route: ServicePortRoute): void {
  const chains = portChains(route);
  const name = assertCommentText(route.servicePortName);
  const proto = route.protocol.toLowerCase();
  const match = `-m ${proto} -p ${proto}`;
  const policyChain = (set: EndpointSet) => (set === 'local' ? chains.local : chains.cluster);
  writeFrontends(tables, route, chains, name, match, policyChain);
  const podCIDR = tables.node.clusterCIDR[route.family] ?? '';
  writeInternal(tables.nat, route, name, match, policyChain, podCIDR);
  writeExternal(tables.nat, route, chains, name, policyChain, podCIDR);
  writeFirewall(tables.nat, route, chains, name);
  // Each endpoint chain name is a sha256; name each once, it is used up to three times.
  const known = new Map<string, string>();
  for (const endpoint of route.reachableEndpoints) known.set(endpoint.hostPort, endpointChain(route, endpoint));
  const sepOf = (ep: Endpoint) => known.get(ep.hostPort) ?? endpointChain(route, ep);
  const endpointComment = tables.largeCluster ? () => '' : (text: string) => `${comment(text)} `;
  for (const set of route.endpointSets) writeEndpointChoice(tables.nat, route, policyChain(set), set, sepOf, endpointComment);
  for (const endpoint of route.reachableEndpoints) {
    const sep = sepOf(endpoint);
    tables.nat.declare(sep);
    tables.nat.add(sep, `${endpointComment(name)}-s ${endpoint.ip} -j ${CHAIN.markMasq}`);
    const affinity = route.affinityTimeoutSeconds === null ? '' : `-m recent --name ${sep} --set `;
    tables.nat.add(sep, `${endpointComment(name)}${affinity}${match}`, `-j DNAT --to-destination ${assertToken(endpoint.hostPort)}`);
  }
}

/** kube-proxy counts node-port packets accepted on 127.0.0.1 where localhost node ports are on (IPv4) and the kernel has nfacct. */
function countsLocalhostNodePorts(node: NodeContext, route: ServicePortRoute): boolean {
  return node.nfacct && node.localhostNodePorts && route.family === 4;
}

function writeFrontends(
  { filter, nat, node }: Context,
  route: ServicePortRoute,
  chains: PortChains,
  name: string,
  match: string,
  policyChain: (set: EndpointSet) => string,
): void {
  const port = `--dport ${route.port}`;
  const verdictComment = (verdict: string) => comment(verdict === 'reject' ? `${name} has no endpoints` : `${name} has no local endpoints`);
  if (route.internal.target) {
    nat.add(CHAIN.services, comment(`${name} cluster IP`), match, `-d ${route.clusterIP}`, port, `-j ${policyChain(route.internal.target)}`);
  } else {
    filter.add(CHAIN.services, verdictComment(route.internal.verdict!), match, `-d ${route.clusterIP}`, port, `-j ${route.internal.verdict!.toUpperCase()}`);
  }
  const external = route.external;
  if (!external) return;
  const lbChain = route.firewall ? chains.firewall : chains.external;
  const externalVerdict = external.verdict;
  for (const ip of route.externalIPs) {
    if (external.hasChain) nat.add(CHAIN.services, comment(`${name} external IP`), match, `-d ${ip}`, port, `-j ${chains.external}`);
    if (externalVerdict) filter.add(CHAIN.externalServices, verdictComment(externalVerdict), match, `-d ${ip}`, port, `-j ${externalVerdict.toUpperCase()}`);
  }
  for (const ip of route.loadBalancerIPs) {
    if (external.hasChain) nat.add(CHAIN.services, comment(`${name} loadbalancer IP`), match, `-d ${ip}`, port, `-j ${lbChain}`);
    if (route.firewall) filter.add(CHAIN.proxyFirewall, comment(`${name} traffic not accepted by ${chains.firewall}`), match, `-d ${ip}`, port, '-j DROP');
  }
  if (externalVerdict) {
    for (const ip of route.loadBalancerIPs) filter.add(CHAIN.externalServices, verdictComment(externalVerdict), match, `-d ${ip}`, port, `-j ${externalVerdict.toUpperCase()}`);
  }
  if (route.nodePort !== null) {
    if (external.hasChain && countsLocalhostNodePorts(node, route)) {
      nat.add(CHAIN.nodePorts, comment(name), match, `-d 127.0.0.0/8 --dport ${route.nodePort}`, `-m nfacct --nfacct-name ${NFACCT.localhostNodePortAccepted}`, `-j ${chains.external}`);
    }
    if (external.hasChain) nat.add(CHAIN.nodePorts, comment(name), match, `--dport ${route.nodePort}`, `-j ${chains.external}`);
    if (externalVerdict) filter.add(CHAIN.externalServices, verdictComment(externalVerdict), '-m addrtype --dst-type LOCAL', match, `--dport ${route.nodePort}`, `-j ${externalVerdict.toUpperCase()}`);
  }
  if (route.healthCheckNodePort !== null) {
    filter.add(CHAIN.nodePorts, comment(`${name} health check node port`), '-m tcp -p tcp', `--dport ${route.healthCheckNodePort}`, '-j ACCEPT');
  }
}

function writeInternal(nat: Table, route: ServicePortRoute, name: string, match: string, policyChain: (set: EndpointSet) => string, podCIDR: string): void {
  const target = route.internal.target;
  if (!target || route.internal.masquerade === 'none') return;
  const chain = policyChain(target);
  const cidr = route.internal.masquerade === 'off-cluster' ? ` ! -s ${podCIDR}` : '';
  nat.add(chain, comment(`${name} cluster IP`), match, `-d ${route.clusterIP} --dport ${route.port}${cidr}`, `-j ${CHAIN.markMasq}`);
}

function writeExternal(nat: Table, route: ServicePortRoute, chains: PortChains, name: string, policyChain: (set: EndpointSet) => string, podCIDR: string): void {
  const external = route.external;
  if (!external?.hasChain) return;
  nat.declare(chains.external);
  if (external.masqueradeAll) nat.add(chains.external, comment(`masquerade traffic for ${name} external destinations`), `-j ${CHAIN.markMasq}`);
  if (external.podsToCluster) {
    nat.add(chains.external, comment(`pod traffic for ${name} external destinations`), `-s ${podCIDR}`, `-j ${chains.cluster}`);
  }
  if (external.nodeToCluster) {
    nat.add(chains.external, comment(`masquerade LOCAL traffic for ${name} external destinations`), '-m addrtype --src-type LOCAL', `-j ${CHAIN.markMasq}`);
    nat.add(chains.external, comment(`route LOCAL traffic for ${name} external destinations`), '-m addrtype --src-type LOCAL', `-j ${chains.cluster}`);
  }
  if (external.target) nat.add(chains.external, `-j ${policyChain(external.target)}`);
}

function writeFirewall(nat: Table, route: ServicePortRoute, chains: PortChains, name: string): void {
  const firewall = route.firewall;
  if (!firewall) return;
  nat.declare(chains.firewall);
  const head = comment(`${name} loadbalancer IP`);
  for (const cidr of firewall.sourceRanges) nat.add(chains.firewall, head, `-s ${cidr}`, `-j ${chains.external}`);
  if (firewall.allowLoadBalancerIPsAsSource) {
    for (const ip of route.loadBalancerIPs) nat.add(chains.firewall, head, `-s ${ip}`, `-j ${chains.external}`);
  }
  // Whatever reaches the end was not DNATed, so KUBE-PROXY-FIREWALL in the filter table drops it.
  nat.add(chains.firewall, comment(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`));
}

/** The comment before an endpoint rule's matches, with its trailing space, or '' in large-cluster mode. */
type EndpointComment = (text: string) => string;

function writeEndpointChoice(
  nat: Table,
  route: ServicePortRoute,
  chain: string,
  set: EndpointSet,
  sepOf: (endpoint: Endpoint) => string,
  endpointComment: EndpointComment,
): void {
  nat.declare(chain);
  const endpoints = set === 'local' ? route.localEndpoints : route.clusterEndpoints;
  const name = route.servicePortName;
  if (route.affinityTimeoutSeconds !== null) {
    for (const endpoint of endpoints) {
      const sep = sepOf(endpoint);
      nat.add(chain, `${endpointComment(`${name} -> ${endpoint.hostPort}`)}-m recent --name ${sep} --rcheck --seconds ${route.affinityTimeoutSeconds} --reap -j ${sep}`);
    }
  }
  endpoints.forEach((endpoint, i) => {
    const sep = sepOf(endpoint);
    const random = i < endpoints.length - 1 ? `-m statistic --mode random --probability ${probability(endpoints.length - i)} ` : '';
    nat.add(chain, `${endpointComment(`${name} -> ${endpoint.hostPort}`)}${random}-j ${sep}`);
  });
}
