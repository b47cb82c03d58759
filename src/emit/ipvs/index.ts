import type { IPFamily, RoutingGraph } from '../../graph/types.js';
import { nftFamilies } from '../nftables/index.js';
import { template } from '../templates.js';
import { fillIpsets, ipvsIptables } from './rules.js';
import { ipvsadmLines, virtualServers } from './virtual-servers.js';

/** One of the files IPVS mode needs, each in its own tool's input format. */
export interface IpvsPart {
  /** Section and file name: kpc apply and readers find parts by it. */
  name: 'kube-ipvs0' | 'ipset' | 'ipvsadm' | 'iptables' | 'ip6tables';
  /** The command that loads it. */
  loader: string;
  text: string;
}

/** File names used for `-o DIR`. */
export const IPVS_FILES: Record<IpvsPart['name'], string> = {
  'kube-ipvs0': 'kube-ipvs0.ip',
  ipset: 'ipset.rules',
  ipvsadm: 'ipvsadm.rules',
  iptables: 'iptables.rules',
  ip6tables: 'ip6tables.rules',
};

/**
 * kube-proxy's IPVS mode as three things that must agree: ipsets, IPVS
 * virtual servers, and the iptables rules that match the sets; plus the
 * service addresses bound to the dummy interface kube-ipvs0. Parts come in
 * the order they must be loaded.
 */
export function emitIpvsParts(graph: RoutingGraph): IpvsPart[] {
  const families = nftFamilies(graph);
  const sets = families.map((family) => fillIpsets(graph, family));
  const servers = graph.servicePorts.flatMap((route) => virtualServers(route, graph));
  const addresses = [...new Set(servers.flatMap((s) => serviceAddresses(s.route)))].sort();
  const parts: IpvsPart[] = [
    { name: 'kube-ipvs0', loader: 'ip -batch', text: template('ipvs', 'kube-ipvs0')({ addresses }) },
    { name: 'ipset', loader: 'ipset restore -exist', text: template('ipvs', 'lines')({ lines: sets.flatMap((s) => s.restoreLines()) }) },
    { name: 'ipvsadm', loader: 'ipvsadm -R', text: template('ipvs', 'lines')({ lines: servers.flatMap(ipvsadmLines) }) },
  ];
  families.forEach((family, i) => {
    const { filter, nat } = ipvsIptables(graph, family, sets[i]!);
    const tool = family === 4 ? 'iptables-restore' : 'ip6tables-restore';
    const text = template('iptables', 'restore')({ tool, node: graph.node.name || '(no node name given)', tables: [filter, nat] });
    parts.push({ name: familyPart(family), loader: tool, text });
  });
  return parts;
}

function familyPart(family: IPFamily): 'iptables' | 'ip6tables' {
  return family === 4 ? 'iptables' : 'ip6tables';
}

/** Addresses kube-proxy binds to kube-ipvs0 so the node accepts their traffic for IPVS: every service VIP. */
function serviceAddresses(route: RoutingGraph['servicePorts'][number]): string[] {
  const prefix = route.family === 4 ? 32 : 128;
  return [route.clusterIP, ...route.externalIPs, ...route.loadBalancerIPs].map((ip) => `${ip}/${prefix}`);
}

/** All parts as one document with marked sections, for stdout; kpc apply reads it back. */
export function emitIpvs(graph: RoutingGraph): string {
  return template('ipvs', 'bundle')({ node: graph.node.name || '(no node name given)', parts: emitIpvsParts(graph) });
}
