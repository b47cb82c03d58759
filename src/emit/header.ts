import type { RoutingGraph } from '../graph/types.js';

/**
 * The node as a rule file's first line names it, saying when the addresses
 * in the rules were simulated rather than read from a cluster, so a file
 * found later is not taken for a live node's rules.
 */
export function headerNode(graph: RoutingGraph): string {
  const node = graph.node.name || '(no node name given)';
  return graph.simulated ? `${node}, with cluster IPs, node ports and pods simulated by kpc (not read from a cluster)` : node;
}
