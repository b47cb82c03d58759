import { headerNode } from '../header.js';
import type { IPFamily, RoutingGraph } from '../../graph/types.js';
import { renderLayout } from '../layout.js';
import { nftFamilies } from '../nftables/index.js';
import { TextBlock, joinChunks } from '../text-block.js';
import { fillIpsets, ipvsIptables } from './rules.js';
import { virtualServers, writeIpvsadm } from './virtual-servers.js';

type PartName = 'kube-ipvs0' | 'ipset' | 'ipvsadm' | 'iptables' | 'ip6tables';

/** One of the files IPVS mode needs, each in its own tool's input format. */
export interface IpvsPart {
  /** Section and file name: kpc apply and readers find parts by it. */
  name: PartName;
  /** The command that loads it. */
  loader: string;
  text: string;
}

/** An IpvsPart as chunks, for writing out without joining. */
export interface IpvsPartChunks {
  name: PartName;
  loader: string;
  chunks: string[];
}

/** File names used for `-o DIR`. */
export const IPVS_FILES: Record<PartName, string> = {
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
export function emitIpvsPartChunks(graph: RoutingGraph): IpvsPartChunks[] {
  const families = nftFamilies(graph);
  const sets = families.map((family) => fillIpsets(graph, family));
  const ipsets = new TextBlock();
  for (const familySets of sets) familySets.writeRestore(ipsets);
  const ipvsadm = new TextBlock();
  for (const route of graph.servicePorts) for (const server of virtualServers(route, graph)) writeIpvsadm(ipvsadm, server);
  const parts: IpvsPartChunks[] = [
    { name: 'kube-ipvs0', loader: 'ip -batch', chunks: renderLayout('ipvs', 'kube-ipvs0', { addresses: addressLines(graph) }) },
    { name: 'ipset', loader: 'ipset restore -exist', chunks: ipsets.chunks() },
    { name: 'ipvsadm', loader: 'ipvsadm -R', chunks: ipvsadm.chunks() },
  ];
  families.forEach((family, i) => {
    const { filter, nat } = ipvsIptables(graph, family, sets[i]!);
    const tool = family === 4 ? 'iptables-restore' : 'ip6tables-restore';
    const chunks = renderLayout('iptables', 'restore', { tool, node: headerNode(graph), tables: [filter.layout(), nat.layout()] });
    parts.push({ name: familyPart(family), loader: tool, chunks });
  });
  return parts;
}

/** The parts as text each, for kpc apply. */
export function emitIpvsParts(graph: RoutingGraph): IpvsPart[] {
  return emitIpvsPartChunks(graph).map(({ name, loader, chunks }) => ({ name, loader, text: joinChunks(chunks) }));
}

function familyPart(family: IPFamily): 'iptables' | 'ip6tables' {
  return family === 4 ? 'iptables' : 'ip6tables';
}

/**
 * `address add` for what kube-proxy binds to kube-ipvs0 so the node accepts
 * its traffic for IPVS: every service VIP, each once, sorted. Every service
 * port has a virtual server, so the VIPs are those of the service ports.
 */
function addressLines(graph: RoutingGraph): string[] {
  const addresses = new Set<string>();
  for (const route of graph.servicePorts) {
    const prefix = route.family === 4 ? 32 : 128;
    addresses.add(`${route.clusterIP}/${prefix}`);
    for (const ip of route.externalIPs) addresses.add(`${ip}/${prefix}`);
    for (const ip of route.loadBalancerIPs) addresses.add(`${ip}/${prefix}`);
  }
  const block = new TextBlock();
  for (const address of [...addresses].sort()) block.line(`address add ${address} dev kube-ipvs0`);
  return block.chunks();
}

/** All parts as one document with marked sections, as chunks, for stdout; kpc apply reads it back. */
export function emitIpvsChunks(graph: RoutingGraph): string[] {
  return renderLayout('ipvs', 'bundle', { node: headerNode(graph), parts: emitIpvsPartChunks(graph) });
}

/** The same document as one string. */
export function emitIpvs(graph: RoutingGraph): string {
  return joinChunks(emitIpvsChunks(graph));
}
