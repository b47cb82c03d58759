import type { Endpoint, EndpointSet, IPFamily, NodeContext, RoutingGraph, ServicePortRoute, Verdict } from '../../../graph/types.js';
import { assertToken } from '../../safe-text.js';
import { endpointNamer, nftPortChains } from '../names.js';
import { NftTable, keyWithComment } from '../table.js';
import { CN, PICKS, pickChain, pickMap, type Pick } from './names.js';

/**
 * The hooks and priorities of kube-proxy's base chains before
 * kubernetes#132456 (numbers: older nft knows the names only on some hooks).
 * This layout gets that PR's behaviour another way: its no-local-endpoint
 * drop is never on the node's output path (see JUMPS).
 */
const BASE_CHAINS = [
  { name: 'filter-prerouting', type: 'filter', hook: 'prerouting', priority: '-110' },
  { name: 'filter-input', type: 'filter', hook: 'input', priority: '-110' },
  { name: 'filter-forward', type: 'filter', hook: 'forward', priority: '-110' },
  { name: 'filter-output', type: 'filter', hook: 'output', priority: '-110' },
  { name: 'filter-output-post-dnat', type: 'filter', hook: 'output', priority: '-90' },
  { name: 'nat-prerouting', type: 'nat', hook: 'prerouting', priority: '-100' },
  { name: 'nat-output', type: 'nat', hook: 'output', priority: '-100' },
  { name: 'nat-postrouting', type: 'nat', hook: 'postrouting', priority: '100' },
] as const;

/**
 * Jumps from the base chains. As kube-proxy's, except that the drop for a
 * policy Local frontend with no local endpoint is checked only on input and
 * forward: the node's own traffic to it is short-circuited to every endpoint
 * in nat-output, which runs after filter-output (kubernetes PR #132456).
 */
const JUMPS: [from: string, to: string, match: string][] = [
  ['filter-input', CN.nodePortEndpointsCheck, 'ct state new '],
  ['filter-input', CN.serviceEndpointsCheck, 'ct state new '],
  ['filter-input', CN.externalEndpointsCheck, 'ct state new '],
  ['filter-forward', CN.serviceEndpointsCheck, 'ct state new '],
  ['filter-forward', CN.externalEndpointsCheck, 'ct state new '],
  ['filter-output', CN.serviceEndpointsCheck, 'ct state new '],
  ['filter-prerouting', CN.firewallCheck, 'ct state new '],
  ['filter-output', CN.firewallCheck, 'ct state new '],
  ['nat-output', CN.services, ''],
  ['nat-prerouting', CN.services, ''],
  ['nat-postrouting', CN.masquerading, ''],
  ['filter-forward', CN.clusterIPsCheck, 'ct state new '],
  ['filter-output-post-dnat', CN.clusterIPsCheck, 'ct state new '],
];

interface Context {
  table: NftTable;
  node: NodeContext;
  family: IPFamily;
  /** `ip` or `ip6`. */
  ipX: string;
  addrType: string;
  /** Elements of each DNAT map, by map name, until the maps are declared (sorted, at the end). */
  picks: Map<Pick, Map<number, string[]>>;
  /** Endpoint addresses, for the hairpin set. */
  endpointIPs: Set<string>;
}

/** A frontend: an address . protocol . port, or a node port (protocol . port on node addresses). */
type Frontend = { kind: 'ip'; key: string } | { kind: 'nodeport'; key: string };

/**
 * Translates the routing graph into the compact layout for one family: a
 * fixed set of chains whose rules look frontends up in named sets and maps,
 * so a Service adds elements, not rules, chains or sets (design and
 * measurements: docs/nftables-compact.md).
 */
export function buildCompactTable(graph: RoutingGraph, family: IPFamily): NftTable {
  const table = new NftTable(family === 4 ? 'ip' : 'ip6');
  const ctx: Context = {
    table,
    node: graph.node,
    family,
    ipX: family === 4 ? 'ip' : 'ip6',
    addrType: family === 4 ? 'ipv4_addr' : 'ipv6_addr',
    picks: new Map(PICKS.map((pick) => [pick, new Map()])),
    endpointIPs: new Set(),
  };
  writeSkeleton(ctx);
  for (const route of graph.servicePorts) if (route.family === family) writeServicePort(ctx, route);
  writePicks(ctx);
  for (const ip of [...ctx.endpointIPs].sort()) table.element(CN.hairpin, `${ip} . ${ip}`);
  return table;
}

function writeSkeleton(ctx: Context): void {
  const { table, ipX, node, addrType } = ctx;
  const cidr = node.clusterCIDR[ctx.family];
  const noLocalhost = ctx.family === 4 ? 'ip daddr != 127.0.0.0/8' : 'ip6 daddr != ::1';
  const ipKey = `${ipX} daddr . meta l4proto . th dport`;
  const ipType = `${addrType} . inet_proto . inet_service`;
  for (const base of BASE_CHAINS) table.base({ ...base });
  for (const to of new Set(JUMPS.map(([, to]) => to))) table.chain(to);
  table.chain(CN.markMasq);
  table.chain(CN.reject, 'helper for @no-endpoint-services / @no-endpoint-nodeports');
  table.chain(CN.externalLocal, 'policy Local: pods and the node to every endpoint, the rest to local ones');
  table.chain(CN.nodePortExternalLocal, 'policy Local: pods and the node to every endpoint, the rest to local ones');
  for (const [from, to, match] of JUMPS) table.rule(from, `${match}jump ${to}`);

  table.rule(CN.markMasq, `mark set mark or ${node.masqueradeMark}`);
  // Hairpin: a connection DNATed to the address it came from is masqueraded, or the
  // endpoint would answer itself directly. Decided after DNAT, so no per-endpoint rule.
  table.rule(CN.masquerading, `ct status dnat ${ipX} saddr . ${ipX} daddr @${CN.hairpin} jump ${CN.markMasq}`);
  table.rule(CN.masquerading, `mark and ${node.masqueradeMark} == 0 return`);
  table.rule(CN.masquerading, `mark set mark xor ${node.masqueradeMark}`);
  table.rule(CN.masquerading, 'masquerade fully-random');

  table.container('set', CN.clusterIPs, `type ${addrType} ; comment "Active ClusterIPs" ;`);
  table.rule(CN.clusterIPsCheck, `${ipX} daddr @${CN.clusterIPs} reject`, 'Reject traffic to invalid ports of ClusterIPs');
  const serviceCIDRs = node.serviceCIDRs[ctx.family];
  if (serviceCIDRs.length > 0) table.rule(CN.clusterIPsCheck, `${ipX} daddr { ${serviceCIDRs.map(assertToken).join(', ')} } drop`, 'Drop traffic to unallocated ClusterIPs');

  const nodePortIPs = node.nodePortAddresses[ctx.family];
  if (nodePortIPs !== null) {
    table.container('set', CN.nodePortIPs, `type ${addrType} ; comment "IPs that accept NodePort traffic" ;`);
    // nftables mode cannot serve node ports on localhost (no route_localnet trick).
    for (const ip of nodePortIPs) if (ip !== '127.0.0.1' && ip !== '::1') table.element(CN.nodePortIPs, assertToken(ip));
  }
  const toNodePort = nodePortIPs === null ? noLocalhost : `${ipX} daddr @${CN.nodePortIPs}`;
  const nodePortMatch = nodePortIPs === null ? `fib daddr type local ${noLocalhost}` : `${ipX} daddr @${CN.nodePortIPs}`;

  table.container('map', CN.noEndpointServices, `type ${ipType} : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ;`);
  table.container('map', CN.noLocalEndpointExternal, `type ${ipType} : verdict ; comment "policy Local external IPs and load-balancer IPs with no local endpoint: dropped unless from this node" ;`);
  table.container('map', CN.noEndpointNodePorts, 'type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ;');
  table.rule(CN.reject, 'reject');
  table.rule(CN.serviceEndpointsCheck, `${ipKey} vmap @${CN.noEndpointServices}`);
  table.rule(CN.externalEndpointsCheck, `${ipKey} vmap @${CN.noLocalEndpointExternal}`);
  table.rule(CN.nodePortEndpointsCheck, `${toNodePort} meta l4proto . th dport vmap @${CN.noEndpointNodePorts}`);

  table.container('set', CN.firewallIPs, `type ${ipType} ; comment "destinations that are subject to LoadBalancerSourceRanges" ;`);
  table.container('set', CN.firewallAllow, `type ${ipType} . ${addrType} ; flags interval ; comment "destination . allowed source range" ;`);
  table.rule(CN.firewallCheck, `${ipKey} @${CN.firewallIPs} ${ipKey} . ${ipX} saddr != @${CN.firewallAllow} drop`);

  table.container('set', CN.masqIPs, `type ${ipType} ; comment "masquerade every new connection" ;`);
  table.container('set', CN.masqOffCluster, `type ${ipType} ; comment "masquerade sources outside the cluster CIDR" ;`);
  table.container('set', CN.masqNodePorts, 'type inet_proto . inet_service ; comment "masquerade every new connection" ;');
  table.container('map', CN.serviceIPs, `type ${ipType} : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ;`);
  table.container('map', CN.serviceNodePorts, 'type inet_proto . inet_service : verdict ; comment "NodePort traffic" ;');
  table.container('map', CN.podsToClusterIPs, `type ${ipType} : verdict ;`);
  table.container('map', CN.nodeToClusterIPs, `type ${ipType} : verdict ;`);
  table.container('map', CN.externalLocalIPs, `type ${ipType} : verdict ;`);
  table.container('map', CN.podsToClusterNodePorts, 'type inet_proto . inet_service : verdict ;');
  table.container('map', CN.nodeToClusterNodePorts, 'type inet_proto . inet_service : verdict ;');
  table.container('map', CN.externalLocalNodePorts, 'type inet_proto . inet_service : verdict ;');
  table.container('set', CN.hairpin, `type ${addrType} . ${addrType} ; comment "endpoint . endpoint: hairpin connections" ;`);

  // Masquerade is decided before DNAT by looking the frontend up; a map used in a
  // lookup without `vmap` tests only whether the key is there.
  const nodePorts = `${nodePortMatch} meta l4proto . th dport`;
  table.rule(CN.services, `${ipKey} @${CN.masqIPs} jump ${CN.markMasq}`);
  if (cidr !== null) table.rule(CN.services, `${ipX} saddr != ${cidr} ${ipKey} @${CN.masqOffCluster} jump ${CN.markMasq}`);
  table.rule(CN.services, `fib saddr type local ${ipKey} @${CN.nodeToClusterIPs} jump ${CN.markMasq}`);
  table.rule(CN.services, `${ipKey} vmap @${CN.serviceIPs}`);
  table.rule(CN.services, `${nodePorts} @${CN.masqNodePorts} jump ${CN.markMasq}`);
  table.rule(CN.services, `fib saddr type local ${nodePorts} @${CN.nodeToClusterNodePorts} jump ${CN.markMasq}`);
  table.rule(CN.services, `${nodePorts} vmap @${CN.serviceNodePorts}`);

  if (cidr !== null) table.rule(CN.externalLocal, `${ipX} saddr ${cidr} ${ipKey} vmap @${CN.podsToClusterIPs}`);
  table.rule(CN.externalLocal, `fib saddr type local ${ipKey} vmap @${CN.nodeToClusterIPs}`);
  table.rule(CN.externalLocal, `${ipKey} vmap @${CN.externalLocalIPs}`);
  if (cidr !== null) table.rule(CN.nodePortExternalLocal, `${ipX} saddr ${cidr} meta l4proto . th dport vmap @${CN.podsToClusterNodePorts}`);
  table.rule(CN.nodePortExternalLocal, `fib saddr type local meta l4proto . th dport vmap @${CN.nodeToClusterNodePorts}`);
  table.rule(CN.nodePortExternalLocal, `meta l4proto . th dport vmap @${CN.externalLocalNodePorts}`);
}

function verdictText(verdict: Verdict): string {
  return verdict === 'reject' ? `goto ${CN.reject}` : 'drop';
}

function writeServicePort(ctx: Context, route: ServicePortRoute): void {
  const { table } = ctx;
  const proto = route.protocol.toLowerCase();
  const ipFrontend = (ip: string): Frontend => ({ kind: 'ip', key: `${ip} . ${proto} . ${route.port}` });
  const target = targets(ctx, route);
  for (const endpoint of route.reachableEndpoints) ctx.endpointIPs.add(endpoint.ip);

  table.element(CN.clusterIPs, route.clusterIP);
  const cluster = ipFrontend(route.clusterIP);
  const internal = route.internal;
  if (internal.target) {
    table.element(CN.serviceIPs, `${cluster.key} : goto ${target(internal.target, cluster)}`);
    if (internal.masquerade === 'all') table.element(CN.masqIPs, cluster.key);
    else if (internal.masquerade === 'off-cluster') table.element(CN.masqOffCluster, cluster.key);
  } else {
    table.element(CN.noEndpointServices, `${keyWithComment(cluster.key, route.servicePortName)} : ${verdictText(internal.verdict!)}`);
  }

  const external = route.external;
  if (!external) return;
  const frontends: Frontend[] = [...route.externalIPs, ...route.loadBalancerIPs].map(ipFrontend);
  if (route.nodePort !== null) frontends.push({ kind: 'nodeport', key: `${proto} . ${route.nodePort}` });
  for (const frontend of frontends) {
    const ip = frontend.kind === 'ip';
    if (external.hasChain) {
      const shortCircuit = external.podsToCluster || external.nodeToCluster;
      if (external.masqueradeAll) table.element(ip ? CN.masqIPs : CN.masqNodePorts, frontend.key);
      if (shortCircuit) {
        table.element(ip ? CN.serviceIPs : CN.serviceNodePorts, `${frontend.key} : goto ${ip ? CN.externalLocal : CN.nodePortExternalLocal}`);
        if (external.podsToCluster) table.element(ip ? CN.podsToClusterIPs : CN.podsToClusterNodePorts, `${frontend.key} : goto ${target('cluster', frontend)}`);
        if (external.nodeToCluster) table.element(ip ? CN.nodeToClusterIPs : CN.nodeToClusterNodePorts, `${frontend.key} : goto ${target('cluster', frontend)}`);
        if (external.target) table.element(ip ? CN.externalLocalIPs : CN.externalLocalNodePorts, `${frontend.key} : goto ${target(external.target, frontend)}`);
      } else if (external.target) {
        table.element(ip ? CN.serviceIPs : CN.serviceNodePorts, `${frontend.key} : goto ${target(external.target, frontend)}`);
      }
    }
    if (external.verdict) {
      const entry = `${keyWithComment(frontend.key, route.servicePortName)} : ${verdictText(external.verdict)}`;
      if (!ip) table.element(CN.noEndpointNodePorts, entry);
      else table.element(external.nodeToCluster ? CN.noLocalEndpointExternal : CN.noEndpointServices, entry);
    }
  }
  if (route.firewall) {
    const sources = [...route.firewall.sourceRanges, ...(route.firewall.allowLoadBalancerIPsAsSource ? route.loadBalancerIPs : [])];
    for (const ip of route.loadBalancerIPs) {
      const key = ipFrontend(ip).key;
      table.element(CN.firewallIPs, key);
      for (const source of sources) table.element(CN.firewallAllow, `${key} . ${assertToken(source)}`);
    }
  }
}

/**
 * Where a frontend's traffic for an endpoint list goes: the shared DNAT chain
 * for the list's size (the frontend's elements added to its map), or, for a
 * port with ClientIP affinity, the port's own chain as kube-proxy's layout has it.
 */
function targets(ctx: Context, route: ServicePortRoute): (set: EndpointSet, frontend: Frontend) => string {
  const listOf = (set: EndpointSet) => (set === 'local' ? route.localEndpoints : route.clusterEndpoints);
  if (route.affinityTimeoutSeconds !== null) {
    const chains = writeAffinityChains(ctx, route);
    return (set) => (set === 'local' ? chains.local : chains.cluster);
  }
  // Pod and node short-circuits of one frontend both lead to its cluster list: its elements go in once.
  const added = new Set<string>();
  return (set, frontend) => {
    const endpoints = listOf(set);
    const pick: Pick = frontend.kind === 'ip' ? set : `nodeport-${set}`;
    const chain = pickChain(pick, endpoints.length);
    if (added.has(`${pick} ${frontend.key}`)) return chain;
    added.add(`${pick} ${frontend.key}`);
    const byCount = ctx.picks.get(pick)!;
    let elements = byCount.get(endpoints.length);
    if (!elements) byCount.set(endpoints.length, (elements = []));
    endpoints.forEach((endpoint, i) => elements.push(`${frontend.key} . ${i} : ${endpoint.ip} . ${endpoint.port}`));
    return chain;
  };
}

/** ClientIP affinity: kube-proxy's per-port chains, per-endpoint chains and timeout sets, for this port only. */
function writeAffinityChains(ctx: Context, route: ServicePortRoute): { cluster: string; local: string } {
  const { table, ipX } = ctx;
  const chains = nftPortChains(route);
  const names = endpointNamer(route);
  const proto = route.protocol.toLowerCase();
  for (const endpoint of route.reachableEndpoints) {
    const { chain, affinity } = names(endpoint);
    table.chain(chain);
    table.container('set', affinity, `type ${ctx.addrType} ; flags dynamic,timeout ; timeout ${route.affinityTimeoutSeconds}s ;`);
    table.rule(chain, `update @${affinity} { ${ipX} saddr }`);
    table.rule(chain, `meta l4proto ${proto} dnat to ${assertToken(endpoint.hostPort)}`);
  }
  for (const set of route.endpointSets) {
    const chain = set === 'local' ? chains.local : chains.cluster;
    const endpoints: Endpoint[] = set === 'local' ? route.localEndpoints : route.clusterEndpoints;
    table.chain(chain);
    for (const endpoint of endpoints) {
      const { chain: target, affinity } = names(endpoint);
      table.rule(chain, `${ipX} saddr @${affinity} goto ${target}`);
    }
    const choices = endpoints.map((endpoint, i) => `${i} : goto ${names(endpoint).chain}`);
    table.rule(chain, `numgen random mod ${endpoints.length} vmap { ${choices.join(', ')} }`);
  }
  return chains;
}

/** One DNAT chain and map per endpoint list kind and size in use, in size order. */
function writePicks(ctx: Context): void {
  const { table, ipX } = ctx;
  for (const pick of PICKS) {
    const byCount = ctx.picks.get(pick)!;
    const key = pick.startsWith('nodeport-') ? 'meta l4proto . th dport' : `${ipX} daddr . meta l4proto . th dport`;
    for (const n of [...byCount.keys()].sort((a, b) => a - b)) {
      const chain = pickChain(pick, n);
      const map = pickMap(pick, n);
      table.chain(chain);
      table.container('map', map, `typeof ${key} . numgen random mod ${n} : ${ipX} daddr . th dport ;`);
      table.rule(chain, `dnat ${ipX} to ${key} . numgen random mod ${n} map @${map}`);
      for (const element of byCount.get(n)!) table.element(map, element);
    }
  }
}
