import { headerNode } from '../header.js';
import type { IPFamily, RoutingGraph } from '../../graph/types.js';
import { renderLayout } from '../layout.js';
import { buildNftTable } from './rules.js';

/**
 * The nft -f input, as chunks: one `kube-proxy` table per IP family the node
 * uses, each replaced whole in the file's single transaction; no other table
 * is touched.
 */
export function emitNftables(graph: RoutingGraph): string[] {
  const tables = nftFamilies(graph).map((family) => buildNftTable(graph, family).layout());
  return renderLayout('nftables', 'ruleset', { node: headerNode(graph), tables });
}

/** IPv4 always (as kube-proxy's primary family by default); IPv6 when the node or a Service uses it. */
export function nftFamilies(graph: RoutingGraph): IPFamily[] {
  const node = graph.node;
  const v6 = node.ips[6].length > 0 || node.clusterCIDR[6] !== null || graph.servicePorts.some((p) => p.family === 6);
  return v6 ? [4, 6] : [4];
}
