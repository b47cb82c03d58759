import type { EndpointSet, IPFamily, NodeContext, RoutingGraph, ServicePortRoute, Verdict } from '../../../graph/types.js';
import { assertToken } from '../../safe-text.js';
import { NftTable, keyWithComment } from '../table.js';
import { CN, PICKS, affinityChain, affinityIndexChain, affinitySet, pickChain, pickMap, type Pick } from './names.js';

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
  /** Endpoint counts whose plain DNAT chain (`cluster-n3`) a frontend without affinity goes to. */
  plain: Map<Pick, Set<number>>;
  /** ClientIP affinity in use: `pick protocol seconds` -> endpoint counts. */
  affinity: Map<string, { pick: Pick; protocol: string; seconds: number; counts: Set<number> }>;
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
    plain: new Map(PICKS.map((pick) => [pick, new Set()])),
    affinity: new Map(),
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
  // The dispatch maps' elements name their service port, as kube-proxy's do: the shared chains they lead to cannot.
  const named = (key: string) => keyWithComment(key, route.servicePortName);
  for (const endpoint of route.reachableEndpoints) ctx.endpointIPs.add(endpoint.ip);

  table.element(CN.clusterIPs, route.clusterIP);
  const cluster = ipFrontend(route.clusterIP);
  const internal = route.internal;
  if (internal.target) {
    table.element(CN.serviceIPs, `${named(cluster.key)} : goto ${target(internal.target, cluster)}`);
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
        table.element(ip ? CN.serviceIPs : CN.serviceNodePorts, `${named(frontend.key)} : goto ${ip ? CN.externalLocal : CN.nodePortExternalLocal}`);
        if (external.podsToCluster) table.element(ip ? CN.podsToClusterIPs : CN.podsToClusterNodePorts, `${frontend.key} : goto ${target('cluster', frontend)}`);
        if (external.nodeToCluster) table.element(ip ? CN.nodeToClusterIPs : CN.nodeToClusterNodePorts, `${frontend.key} : goto ${target('cluster', frontend)}`);
        if (external.target) table.element(ip ? CN.externalLocalIPs : CN.externalLocalNodePorts, `${frontend.key} : goto ${target(external.target, frontend)}`);
      } else if (external.target) {
        table.element(ip ? CN.serviceIPs : CN.serviceNodePorts, `${named(frontend.key)} : goto ${target(external.target, frontend)}`);
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
 * for the list's kind and size, the frontend's elements added to its map; for
 * a port with ClientIP affinity, the shared affinity chain for that kind,
 * size, protocol and timeout, which DNATs through the same map.
 */
function targets(ctx: Context, route: ServicePortRoute): (set: EndpointSet, frontend: Frontend) => string {
  const listOf = (set: EndpointSet) => (set === 'local' ? route.localEndpoints : route.clusterEndpoints);
  const seconds = route.affinityTimeoutSeconds;
  if (seconds !== null && !(Number.isSafeInteger(seconds) && seconds > 0)) throw new Error(`${route.servicePortName}: ClientIP affinity timeout ${seconds} is not a whole number of seconds above 0`);
  const protocol = route.protocol.toLowerCase();
  // Pod and node short-circuits of one frontend both lead to its cluster list: its elements go in once.
  const added = new Set<string>();
  return (set, frontend) => {
    const endpoints = listOf(set);
    const n = endpoints.length;
    const pick: Pick = frontend.kind === 'ip' ? set : `nodeport-${set}`;
    let chain = pickChain(pick, n);
    if (seconds === null) ctx.plain.get(pick)!.add(n);
    else {
      chain = affinityChain(pick, n, protocol, seconds);
      const id = `${pick} ${protocol} ${seconds}`;
      let use = ctx.affinity.get(id);
      if (!use) ctx.affinity.set(id, (use = { pick, protocol, seconds, counts: new Set() }));
      use.counts.add(n);
    }
    if (added.has(`${pick} ${frontend.key}`)) return chain;
    added.add(`${pick} ${frontend.key}`);
    const byCount = ctx.picks.get(pick)!;
    let elements = byCount.get(n);
    if (!elements) byCount.set(n, (elements = []));
    endpoints.forEach((endpoint, i) => elements.push(`${frontend.key} . ${i} : ${endpoint.ip} . ${endpoint.port}`));
    return chain;
  };
}

/** One DNAT chain and map per endpoint list kind and size in use, in size order; then ClientIP affinity's chains and sets. */
function writePicks(ctx: Context): void {
  const { table, ipX } = ctx;
  for (const pick of PICKS) {
    const byCount = ctx.picks.get(pick)!;
    const key = pick.startsWith('nodeport-') ? 'meta l4proto . th dport' : `${ipX} daddr . meta l4proto . th dport`;
    for (const n of [...byCount.keys()].sort((a, b) => a - b)) {
      const chain = pickChain(pick, n);
      const map = pickMap(pick, n);
      // A size that only affinity ports have needs the map (their chains DNAT through it) but not the plain chain.
      if (ctx.plain.get(pick)!.has(n)) table.chain(chain);
      table.container('map', map, `typeof ${key} . numgen random mod ${n} : ${ipX} daddr . th dport ;`);
      if (ctx.plain.get(pick)!.has(n)) table.rule(chain, `dnat ${ipX} to ${key} . numgen random mod ${n} map @${map}`);
      for (const element of byCount.get(n)!) table.element(map, element);
    }
  }
  const uses = [...ctx.affinity.values()].sort((a, b) => PICKS.indexOf(a.pick) - PICKS.indexOf(b.pick) || a.protocol.localeCompare(b.protocol) || a.seconds - b.seconds);
  for (const use of uses) writeAffinity(ctx, use.pick, use.protocol, use.seconds, [...use.counts].sort((a, b) => a - b));
}

/**
 * ClientIP affinity for one kind, protocol and timeout, shared by every port
 * that has them: one dynamic set of `client . frontend . endpoint index`,
 * and per endpoint count N a check chain and N index chains. The index is a
 * constant field: nft 1.0.6 refuses a literal inside a concatenation that is
 * looked up (`... . 3 @set`: "Can't parse symbolic invalid expressions"), but
 * takes `numgen random mod 1 offset 3`, which always yields 3. The protocol is
 * in the names, not the key: nft 1.0.6 keeps a set's `typeof` for at most 4
 * fields, and with 5 it lists the set as `type ... . integer` and aborts on
 * listing 2 elements (mergesort.c `ilen > 0`).
 *
 * A remembered index is re-applied to the frontend's current endpoint list:
 * after a change it may name another endpoint of the same port (kube-proxy
 * remembers the endpoint itself), and an index beyond the list finds no map
 * element, so that rule does not match and the client is picked anew. A
 * client is remembered per frontend (as IPVS persistence is per virtual
 * server); kube-proxy remembers it per service port across its frontends.
 */
function writeAffinity(ctx: Context, pick: Pick, protocol: string, seconds: number, counts: number[]): void {
  const { table, ipX } = ctx;
  const nodePort = pick.startsWith('nodeport-');
  const set = affinitySet(pick, protocol, seconds);
  const frontend = nodePort ? 'th dport' : `${ipX} daddr . th dport`;
  const dnatKey = nodePort ? 'meta l4proto . th dport' : `${ipX} daddr . meta l4proto . th dport`;
  // kube-proxy's per-endpoint sets hold 65535 clients each; this set is shared by every port of the kind, protocol and timeout.
  table.container('set', set, `typeof ${ipX} saddr . ${frontend} . numgen random mod 1 ; flags dynamic,timeout ; timeout ${seconds}s ; size 1048576 ;`);
  for (const n of counts) {
    const check = affinityChain(pick, n, protocol, seconds);
    const map = pickMap(pick, n);
    const indexes = Array.from({ length: n }, (_, i) => ({ chain: affinityIndexChain(pick, n, protocol, seconds, i), key: `numgen random mod 1 offset ${i}` }));
    table.chain(check);
    for (const { chain } of indexes) table.chain(chain);
    for (const { chain, key } of indexes) table.rule(check, `${ipX} saddr . ${frontend} . ${key} @${set} goto ${chain}`);
    table.rule(check, `numgen random mod ${n} vmap { ${indexes.map(({ chain }, i) => `${i} : goto ${chain}`).join(', ')} }`);
    for (const { chain, key } of indexes) {
      table.rule(chain, `update @${set} { ${ipX} saddr . ${frontend} . ${key} }`);
      table.rule(chain, `dnat ${ipX} to ${dnatKey} . ${key} map @${map}`);
    }
  }
}
