import { headerNode } from '../header.js';
import type { IPFamily, RoutingGraph } from '../../graph/types.js';
import { renderLayout } from '../layout.js';
import { buildIptables } from './rules.js';

/** The iptables-restore (or ip6tables-restore) input for one family, as chunks. */
export function emitIptables(graph: RoutingGraph, family: IPFamily): string[] {
  const { filter, nat } = buildIptables(graph, family);
  return renderLayout('iptables', 'restore', {
    tool: family === 4 ? 'iptables-restore' : 'ip6tables-restore',
    node: headerNode(graph),
    tables: [filter.layout(), nat.layout()],
  });
}
