import type { RoutingGraph } from '../../../graph/types.js';
import { renderLayout } from '../../layout.js';
import { nftFamilies } from '../index.js';
import { COMPACT_COMMENT } from './names.js';
import { buildCompactTable } from './rules.js';

/**
 * The compact layout's nft -f input, as chunks: the same `kube-proxy` table per
 * family as kube-proxy's layout (so either replaces the other), whose rules,
 * chains and sets do not grow with the number of Services.
 */
export function emitNftablesCompact(graph: RoutingGraph): string[] {
  const tables = nftFamilies(graph).map((family) => buildCompactTable(graph, family).layout());
  return renderLayout('nftables', 'compact', { node: graph.node.name || '(no node name given)', comment: COMPACT_COMMENT, tables });
}
