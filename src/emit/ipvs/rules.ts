import type { IPFamily, RoutingGraph, ServicePortRoute } from '../../graph/types.js';
import { writeForwardChain, writeMasqueradeChains } from '../iptables/shared-chains.js';
import { Table, comment } from '../iptables/table.js';
import { IPSETS, IpsetCollection, type SetKey } from './ipsets.js';
import { nodePortAddresses } from './virtual-servers.js';

const CHAIN = {
  services: 'KUBE-SERVICES',
  postrouting: 'KUBE-POSTROUTING',
  nodePort: 'KUBE-NODE-PORT',
  loadBalancer: 'KUBE-LOAD-BALANCER',
  markMasq: 'KUBE-MARK-MASQ',
  forward: 'KUBE-FORWARD',
  proxyFirewall: 'KUBE-PROXY-FIREWALL',
  sourceRangesFirewall: 'KUBE-SOURCE-RANGES-FIREWALL',
  ipvsFilter: 'KUBE-IPVS-FILTER',
  ipvsOutFilter: 'KUBE-IPVS-OUT-FILTER',
} as const;

/** Fills one family's ipsets from the graph, as kube-proxy's IPVS proxier does. */
export function fillIpsets(graph: RoutingGraph, family: IPFamily): IpsetCollection {
  const sets = new IpsetCollection(family);
  for (const route of graph.servicePorts) if (route.family === family) addServicePort(sets, route, graph);
  return sets;
}

function addServicePort(sets: IpsetCollection, route: ServicePortRoute, graph: RoutingGraph): void {
  const proto = route.protocol.toLowerCase();
  const entry = (ip: string) => `${ip},${proto}:${route.port}`;
  for (const endpoint of route.endpoints) {
    if (endpoint.isLocal) sets.add('loopBack', `${endpoint.ip},${proto}:${endpoint.port},${endpoint.ip}`);
  }
  sets.add('clusterIP', entry(route.clusterIP));
  sets.add('ipvsIPs', route.clusterIP);
  const local = route.external?.policy === 'Local';
  for (const ip of route.externalIPs) {
    sets.add(local ? 'externalIPLocal' : 'externalIP', entry(ip));
    sets.add('ipvsIPs', ip);
  }
  for (const ip of route.loadBalancerIPs) {
    sets.add('loadBalancer', entry(ip));
    sets.add('ipvsIPs', ip);
    if (local) sets.add('loadBalancerLocal', entry(ip));
    if (route.firewall) {
      sets.add('loadBalancerFW', entry(ip));
      for (const cidr of route.firewall.sourceRanges) sets.add('loadBalancerSourceCIDR', `${entry(ip)},${cidr}`);
      if (route.firewall.allowLoadBalancerIPsAsSource) sets.add('loadBalancerSourceIP', `${entry(ip)},${ip}`);
    }
  }
  if (route.nodePort !== null) {
    const key = nodePortSet(route.protocol, local);
    if (route.protocol === 'SCTP') for (const ip of nodePortAddresses(graph, route)) sets.add(key, `${ip},${proto}:${route.nodePort}`);
    else sets.add(key, String(route.nodePort));
  }
  if (route.healthCheckNodePort !== null) sets.add('healthCheckNodePort', String(route.healthCheckNodePort));
}

function nodePortSet(protocol: ServicePortRoute['protocol'], local: boolean): SetKey {
  const table: Record<string, [SetKey, SetKey]> = {
    TCP: ['nodePortTCP', 'nodePortLocalTCP'],
    UDP: ['nodePortUDP', 'nodePortLocalUDP'],
    SCTP: ['nodePortSCTP', 'nodePortLocalSCTP'],
  };
  return table[protocol]![local ? 1 : 0];
}

/** Set-driven rules: `-m set --match-set SET MATCH -j TARGET`, only for non-empty sets (kube-proxy's ipsetWithIptablesChain). */
const SET_RULES: { set: SetKey; table: 'nat' | 'filter'; from: string; to: string; match: string; proto?: string }[] = [
  { set: 'loopBack', table: 'nat', from: CHAIN.postrouting, to: 'MASQUERADE', match: 'dst,dst,src' },
  { set: 'loadBalancer', table: 'nat', from: CHAIN.services, to: CHAIN.loadBalancer, match: 'dst,dst' },
  { set: 'loadBalancerLocal', table: 'nat', from: CHAIN.loadBalancer, to: 'RETURN', match: 'dst,dst' },
  { set: 'nodePortLocalTCP', table: 'nat', from: CHAIN.nodePort, to: 'RETURN', match: 'dst', proto: 'tcp' },
  { set: 'nodePortTCP', table: 'nat', from: CHAIN.nodePort, to: CHAIN.markMasq, match: 'dst', proto: 'tcp' },
  { set: 'nodePortLocalUDP', table: 'nat', from: CHAIN.nodePort, to: 'RETURN', match: 'dst', proto: 'udp' },
  { set: 'nodePortUDP', table: 'nat', from: CHAIN.nodePort, to: CHAIN.markMasq, match: 'dst', proto: 'udp' },
  { set: 'nodePortLocalSCTP', table: 'nat', from: CHAIN.nodePort, to: 'RETURN', match: 'dst,dst', proto: 'sctp' },
  { set: 'nodePortSCTP', table: 'nat', from: CHAIN.nodePort, to: CHAIN.markMasq, match: 'dst,dst', proto: 'sctp' },
  { set: 'loadBalancerFW', table: 'filter', from: CHAIN.proxyFirewall, to: CHAIN.sourceRangesFirewall, match: 'dst,dst' },
  { set: 'loadBalancerSourceCIDR', table: 'filter', from: CHAIN.sourceRangesFirewall, to: 'RETURN', match: 'dst,dst,src' },
  { set: 'loadBalancerSourceIP', table: 'filter', from: CHAIN.sourceRangesFirewall, to: 'RETURN', match: 'dst,dst,src' },
];

/** The iptables rules IPVS mode still needs: masquerade, node-port and firewall decisions by ipset. */
export function ipvsIptables(graph: RoutingGraph, family: IPFamily, sets: IpsetCollection): { filter: Table; nat: Table } {
  const filter = new Table('filter', ['INPUT', 'FORWARD', 'OUTPUT']);
  const nat = new Table('nat', ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']);
  for (const chain of [CHAIN.services, CHAIN.postrouting, CHAIN.nodePort, CHAIN.loadBalancer, CHAIN.markMasq]) nat.declare(chain);
  for (const chain of [CHAIN.forward, CHAIN.nodePort, CHAIN.proxyFirewall, CHAIN.sourceRangesFirewall, CHAIN.ipvsFilter, CHAIN.ipvsOutFilter]) filter.declare(chain);
  nat.add('OUTPUT', comment('kubernetes service portals'), `-j ${CHAIN.services}`);
  nat.add('PREROUTING', comment('kubernetes service portals'), `-j ${CHAIN.services}`);
  nat.add('POSTROUTING', comment('kubernetes postrouting rules'), `-j ${CHAIN.postrouting}`);
  filter.add('FORWARD', comment('kubernetes forwarding rules'), `-j ${CHAIN.forward}`);
  filter.add('INPUT', comment('kubernetes health check rules'), `-j ${CHAIN.nodePort}`);
  filter.add('INPUT', comment('kube-proxy firewall rules'), `-j ${CHAIN.proxyFirewall}`);
  filter.add('FORWARD', comment('kube-proxy firewall rules'), `-j ${CHAIN.proxyFirewall}`);
  filter.add('INPUT', comment('kubernetes ipvs access filter'), `-j ${CHAIN.ipvsFilter}`);
  filter.add('OUTPUT', comment('kubernetes ipvs access filter'), `-j ${CHAIN.ipvsOutFilter}`);

  const match = (key: SetKey, how: string) => `${comment(IPSETS[key].comment)} -m set --match-set ${sets.name(key)} ${how}`;
  for (const rule of SET_RULES) {
    if (sets.isEmpty(rule.set)) continue;
    const table = rule.table === 'nat' ? nat : filter;
    table.add(rule.from, ...(rule.proto ? [`-p ${rule.proto}`] : []), match(rule.set, rule.match), `-j ${rule.to}`);
  }
  writeServiceRules(nat, graph, family, sets, match);
  filter.add(CHAIN.sourceRangesFirewall, '-j DROP');
  writeForwardChain(filter, graph.node);
  filter.add(CHAIN.nodePort, match('healthCheckNodePort', 'dst'), '-j ACCEPT');
  // Keep host ports from being reached through service addresses (kubernetes#72236).
  for (const [key, how] of [['loadBalancer', 'dst,dst'], ['clusterIP', 'dst,dst'], ['externalIP', 'dst,dst'], ['externalIPLocal', 'dst,dst'], ['healthCheckNodePort', 'dst']] as [SetKey, string][]) {
    filter.add(CHAIN.ipvsFilter, `-m set --match-set ${sets.name(key)} ${how} -j RETURN`);
  }
  filter.add(CHAIN.ipvsFilter, `-m conntrack --ctstate NEW -m set --match-set ${sets.name('ipvsIPs')} dst -j REJECT`);
  writeMasqueradeChains(nat, graph.node);
  return { filter, nat };
}

function writeServiceRules(nat: Table, graph: RoutingGraph, family: IPFamily, sets: IpsetCollection, match: (key: SetKey, how: string) => string): void {
  if (!sets.isEmpty('clusterIP')) {
    const cidr = graph.node.clusterCIDR[family];
    if (graph.node.masqueradeAll) nat.add(CHAIN.services, match('clusterIP', 'dst,dst'), `-j ${CHAIN.markMasq}`);
    else if (cidr) nat.add(CHAIN.services, match('clusterIP', 'dst,dst'), `! -s ${cidr} -j ${CHAIN.markMasq}`);
    // Without a cluster CIDR, kube-proxy masquerades node traffic whose source is a service VIP.
    else nat.add(CHAIN.services, match('clusterIP', 'src,dst'), `-j ${CHAIN.markMasq}`);
  }
  const externalOnly = (key: SetKey) => {
    // Outside traffic (not from a bridge, not from this host) and traffic to local addresses are accepted for IPVS.
    nat.add(CHAIN.services, match(key, 'dst,dst'), '-m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT');
    nat.add(CHAIN.services, match(key, 'dst,dst'), '-m addrtype --dst-type LOCAL -j ACCEPT');
  };
  if (!sets.isEmpty('externalIP')) {
    nat.add(CHAIN.services, match('externalIP', 'dst,dst'), `-j ${CHAIN.markMasq}`);
    externalOnly('externalIP');
  }
  if (!sets.isEmpty('externalIPLocal')) externalOnly('externalIPLocal');
  nat.add(CHAIN.services, '-m addrtype --dst-type LOCAL', `-j ${CHAIN.nodePort}`);
  nat.add(CHAIN.loadBalancer, `-j ${CHAIN.markMasq}`);
  for (const key of ['clusterIP', 'loadBalancer'] as SetKey[]) {
    if (!sets.isEmpty(key)) nat.add(CHAIN.services, `-m set --match-set ${sets.name(key)} dst,dst -j ACCEPT`);
  }
}
