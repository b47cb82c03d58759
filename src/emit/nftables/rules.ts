import type { Endpoint, EndpointSet, IPFamily, NodeContext, RoutingGraph, ServicePortRoute, Verdict } from '../../graph/types.js';
import { assertToken } from '../safe-text.js';
import { KUBE_PROXY_NAMES as C, endpointNamer, nftPortChains, type NftPortChains } from './names.js';
import { NftTable, keyWithComment } from './table.js';


/**
 * kube-proxy's base chains since kubernetes#132456 (1.34, backported to
 * 1.33): only the source-range check runs before DNAT (priority dstnat-10);
 * the no-endpoint and cluster-IP checks run at priority filter (0), after
 * DNAT, so that traffic from this node to an external address of an
 * externalTrafficPolicy Local service is short-circuited by the nat chains
 * before a `drop` meant for outside traffic can see it (kubernetes#131765).
 * Priorities as numbers (dstnat is -100, srcnat 100): older nft accepts the
 * symbolic names only on the hooks where they are defined.
 */
const BASE_CHAINS = [
  { name: 'filter-prerouting-pre-dnat', type: 'filter', hook: 'prerouting', priority: '-110' },
  { name: 'filter-output-pre-dnat', type: 'filter', hook: 'output', priority: '-110' },
  { name: 'filter-forward', type: 'filter', hook: 'forward', priority: '0' },
  { name: 'filter-input', type: 'filter', hook: 'input', priority: '0' },
  { name: 'filter-output', type: 'filter', hook: 'output', priority: '0' },
  { name: 'nat-prerouting', type: 'nat', hook: 'prerouting', priority: '-100' },
  { name: 'nat-output', type: 'nat', hook: 'output', priority: '-100' },
  { name: 'nat-postrouting', type: 'nat', hook: 'postrouting', priority: '100' },
] as const;

/** Jumps from the base chains into kube-proxy's top-level chains, in kube-proxy's order (nftablesJumpChains). */
const JUMPS: [from: string, to: string, match: string][] = [
  ['filter-input', C.nodePortEndpointsCheck, 'ct state new '],
  ['filter-input', C.serviceEndpointsCheck, 'ct state new '],
  ['filter-forward', C.serviceEndpointsCheck, 'ct state new '],
  ['filter-output', C.serviceEndpointsCheck, 'ct state new '],
  ['filter-prerouting-pre-dnat', C.firewallCheck, 'ct state new '],
  ['filter-output-pre-dnat', C.firewallCheck, 'ct state new '],
  ['nat-output', C.services, ''],
  ['nat-prerouting', C.services, ''],
  ['nat-postrouting', C.masquerading, ''],
  ['filter-forward', C.clusterIPsCheck, 'ct state new '],
  ['filter-output', C.clusterIPsCheck, 'ct state new '],
];

type EndpointNames = (endpoint: Endpoint) => { chain: string; affinity: string };

interface Context {
  table: NftTable;
  node: NodeContext;
  family: IPFamily;
  /** `ip` or `ip6`, for address matches. */
  ipX: string;
}

/** Translates the routing graph into kube-proxy's nftables objects for one family. */
export function buildNftTable(graph: RoutingGraph, family: IPFamily): NftTable {
  const table = new NftTable(family === 4 ? 'ip' : 'ip6');
  const ctx: Context = { table, node: graph.node, family, ipX: family === 4 ? 'ip' : 'ip6' };
  writeSkeleton(ctx);
  for (const route of graph.servicePorts) if (route.family === family) writeServicePort(ctx, route);
  return table;
}

function writeSkeleton(ctx: Context): void {
  const { table, ipX, node } = ctx;
  const addrType = ctx.family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const noLocalhost = ctx.family === 4 ? 'ip daddr != 127.0.0.0/8' : 'ip6 daddr != ::1';
  for (const base of BASE_CHAINS) table.base({ ...base });
  // Several base chains jump to the same check chain: declare each once.
  for (const to of new Set(JUMPS.map(([, to]) => to))) table.chain(to);
  table.chain(C.markMasq);
  table.chain(C.reject, 'helper for @no-endpoint-services / @no-endpoint-nodeports');
  for (const [from, to, match] of JUMPS) table.rule(from, `${match}jump ${to}`);

  table.rule(C.markMasq, `mark set mark or ${node.masqueradeMark}`);
  table.rule(C.masquerading, `mark and ${node.masqueradeMark} == 0 return`);
  table.rule(C.masquerading, `mark set mark xor ${node.masqueradeMark}`);
  table.rule(C.masquerading, 'masquerade fully-random');

  table.container('set', C.clusterIPs, `type ${addrType} ; comment "Active ClusterIPs" ;`);
  table.rule(C.clusterIPsCheck, `${ipX} daddr @${C.clusterIPs} reject`, 'Reject traffic to invalid ports of ClusterIPs');
  // With the service CIDRs known (ServiceCIDR objects, --service-cidr), an
  // address in them that no Service holds is dropped, as kube-proxy does since 1.33.
  const serviceCIDRs = node.serviceCIDRs[ctx.family];
  if (serviceCIDRs.length > 0) {
    table.rule(C.clusterIPsCheck, `${ipX} daddr { ${serviceCIDRs.map(assertToken).join(',')} } drop`, 'Drop traffic to unallocated ClusterIPs');
  }

  const nodePortIPs = node.nodePortAddresses[ctx.family];
  if (nodePortIPs !== null) {
    table.container('set', C.nodePortIPs, `type ${addrType} ; comment "IPs that accept NodePort traffic" ;`);
    // nftables mode cannot serve node ports on localhost (no route_localnet trick).
    for (const ip of nodePortIPs) if (ip !== '127.0.0.1' && ip !== '::1') table.element(C.nodePortIPs, assertToken(ip));
  }
  const toNodePort = nodePortIPs === null ? noLocalhost : `${ipX} daddr @${C.nodePortIPs}`;

  table.container('map', C.noEndpointServices, `type ${addrType} . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ;`);
  table.container('map', C.noEndpointNodePorts, 'type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ;');
  table.rule(C.reject, 'reject');
  table.rule(C.serviceEndpointsCheck, `${ipX} daddr . meta l4proto . th dport vmap @${C.noEndpointServices}`);
  table.rule(C.nodePortEndpointsCheck, `${toNodePort} meta l4proto . th dport vmap @${C.noEndpointNodePorts}`);

  table.container('map', C.firewallIPs, `type ${addrType} . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ;`);
  table.rule(C.firewallCheck, `${ipX} daddr . meta l4proto . th dport vmap @${C.firewallIPs}`);

  table.container('map', C.serviceIPs, `type ${addrType} . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ;`);
  table.container('map', C.serviceNodePorts, 'type inet_proto . inet_service : verdict ; comment "NodePort traffic" ;');
  table.rule(C.services, `${ipX} daddr . meta l4proto . th dport vmap @${C.serviceIPs}`);
  const nodePortMatch = nodePortIPs === null ? `fib daddr type local ${noLocalhost}` : `${ipX} daddr @${C.nodePortIPs}`;
  table.rule(C.services, `${nodePortMatch} meta l4proto . th dport vmap @${C.serviceNodePorts}`);
}

function verdictText(verdict: Verdict): string {
  return verdict === 'reject' ? `goto ${C.reject}` : 'drop';
}

function writeServicePort(ctx: Context, route: ServicePortRoute): void {
  const { table } = ctx;
  const chains = nftPortChains(route);
  const proto = route.protocol.toLowerCase();
  const policyChain = (set: EndpointSet) => (set === 'local' ? chains.local : chains.cluster);
  // Each endpoint's names are a sha256; name each once, they are used up to four times.
  const nameOf = endpointNamer(route);
  const known = new Map<string, { chain: string; affinity: string }>();
  for (const endpoint of route.reachableEndpoints) known.set(endpoint.hostPort, nameOf(endpoint));
  const names: EndpointNames = (ep) => known.get(ep.hostPort) ?? nameOf(ep);
  declareChains(ctx, route, chains, names);

  table.element(C.clusterIPs, route.clusterIP);
  const key = (ip: string) => `${ip} . ${proto} . ${route.port}`;
  if (route.internal.target) table.element(C.serviceIPs, `${key(route.clusterIP)} : goto ${policyChain(route.internal.target)}`);
  else table.element(C.noEndpointServices, `${keyWithComment(key(route.clusterIP), route.servicePortName)} : ${verdictText(route.internal.verdict!)}`);

  const external = route.external;
  if (external) {
    const noEndpoints = external.verdict;
    for (const ip of route.externalIPs) {
      if (external.hasChain) table.element(C.serviceIPs, `${key(ip)} : goto ${chains.external}`);
      if (noEndpoints) table.element(C.noEndpointServices, `${keyWithComment(key(ip), route.servicePortName)} : ${verdictText(noEndpoints)}`);
    }
    for (const ip of route.loadBalancerIPs) {
      if (external.hasChain) table.element(C.serviceIPs, `${key(ip)} : goto ${chains.external}`);
      if (route.firewall) table.element(C.firewallIPs, `${key(ip)} : goto ${chains.firewall}`);
    }
    if (noEndpoints) {
      for (const ip of route.loadBalancerIPs) table.element(C.noEndpointServices, `${keyWithComment(key(ip), route.servicePortName)} : ${verdictText(noEndpoints)}`);
    }
    if (route.nodePort !== null) {
      const nodePortKey = `${proto} . ${route.nodePort}`;
      if (external.hasChain) table.element(C.serviceNodePorts, `${nodePortKey} : goto ${chains.external}`);
      if (noEndpoints) table.element(C.noEndpointNodePorts, `${keyWithComment(nodePortKey, route.servicePortName)} : ${verdictText(noEndpoints)}`);
    }
  }
  writeInternal(ctx, route, policyChain);
  writeExternal(ctx, route, chains, policyChain);
  writeFirewall(ctx, route, chains);
  writeAffinitySets(ctx, route, names);
  for (const set of route.endpointSets) writeEndpointChoice(ctx, route, policyChain(set), set === 'local' ? route.localEndpoints : route.clusterEndpoints, names);
  for (const endpoint of route.reachableEndpoints) {
    const { chain, affinity } = names(endpoint);
    table.rule(chain, `${ctx.ipX} saddr ${endpoint.ip} jump ${C.markMasq}`);
    if (route.affinityTimeoutSeconds !== null) table.rule(chain, `update @${affinity} { ${ctx.ipX} saddr }`);
    table.rule(chain, `meta l4proto ${proto} dnat to ${assertToken(endpoint.hostPort)}`);
  }
}

function declareChains(ctx: Context, route: ServicePortRoute, chains: NftPortChains, names: EndpointNames): void {
  for (const endpoint of route.reachableEndpoints) ctx.table.chain(names(endpoint).chain);
  for (const set of route.endpointSets) ctx.table.chain(set === 'local' ? chains.local : chains.cluster);
  if (route.external?.hasChain) ctx.table.chain(chains.external);
  if (route.firewall) ctx.table.chain(chains.firewall);
}

function writeInternal(ctx: Context, route: ServicePortRoute, policyChain: (set: EndpointSet) => string): void {
  const target = route.internal.target;
  if (!target || route.internal.masquerade === 'none') return;
  const offCluster = route.internal.masquerade === 'off-cluster' ? ` ${ctx.ipX} saddr != ${ctx.node.clusterCIDR[ctx.family]}` : '';
  // No `tcp dport N` since kubernetes#131492: the chain is only reached through its own map entry.
  ctx.table.rule(policyChain(target), `${ctx.ipX} daddr ${route.clusterIP}${offCluster} jump ${C.markMasq}`);
}

function writeExternal(ctx: Context, route: ServicePortRoute, chains: NftPortChains, policyChain: (set: EndpointSet) => string): void {
  const external = route.external;
  if (!external?.hasChain) return;
  const chain = chains.external;
  if (external.masqueradeAll) ctx.table.rule(chain, `jump ${C.markMasq}`);
  if (external.podsToCluster) ctx.table.rule(chain, `${ctx.ipX} saddr ${ctx.node.clusterCIDR[ctx.family]} goto ${chains.cluster}`, 'short-circuit pod traffic');
  if (external.nodeToCluster) {
    ctx.table.rule(chain, `fib saddr type local jump ${C.markMasq}`, 'masquerade local traffic');
    ctx.table.rule(chain, `fib saddr type local goto ${chains.cluster}`, 'short-circuit local traffic');
  }
  if (external.target) ctx.table.rule(chain, `goto ${policyChain(external.target)}`);
}

function writeFirewall(ctx: Context, route: ServicePortRoute, chains: NftPortChains): void {
  const firewall = route.firewall;
  if (!firewall) return;
  const sources = [...firewall.sourceRanges, ...(firewall.allowLoadBalancerIPsAsSource ? route.loadBalancerIPs : [])];
  ctx.table.rule(chains.firewall, `${ctx.ipX} saddr != { ${sources.join(', ')} } drop`);
}

function writeAffinitySets(ctx: Context, route: ServicePortRoute, names: EndpointNames): void {
  if (route.affinityTimeoutSeconds === null) return;
  const type = ctx.family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  for (const endpoint of route.reachableEndpoints) {
    ctx.table.container('set', names(endpoint).affinity, `type ${type} ; flags dynamic,timeout ; timeout ${route.affinityTimeoutSeconds}s ;`);
  }
}

function writeEndpointChoice(ctx: Context, route: ServicePortRoute, chain: string, endpoints: Endpoint[], names: EndpointNames): void {
  if (route.affinityTimeoutSeconds !== null) {
    for (const endpoint of endpoints) {
      const { chain: target, affinity } = names(endpoint);
      ctx.table.rule(chain, `${ctx.ipX} saddr @${affinity} goto ${target}`);
    }
  }
  const choices = endpoints.map((endpoint, i) => `${i} : goto ${names(endpoint).chain}`);
  ctx.table.rule(chain, `numgen random mod ${endpoints.length} vmap { ${choices.join(', ')} }`);
}
