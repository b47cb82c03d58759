import type { IPFamily } from '../graph/types.js';
import type { Node } from '../model/k8s.js';
import { blockOf, type Block } from './block.js';
import type { SimulationContext } from './context.js';
import { NODE_CIDR_MASK, SIMULATED_NODE_PREFIX } from './options.js';
import { Pool } from './pool.js';
import { subBlock } from './block.js';

export interface NodeRequest {
  /** --node-name, added as a node when the input has no Node of that name. */
  nodeName?: string;
  /** --node-ip, the addresses of that added node. */
  nodeIPs: string[];
  /** --simulate-nodes. */
  extra: number;
}

/**
 * The cluster's nodes: the input's, --node-name's when missing, and
 * --simulate-nodes N named sim-node-1..N, those the input lacks (one when there
 * would be no node at all, so that workloads have somewhere to run). Added
 * nodes carry the labels the kubelet sets. Sorted by name.
 */
export function clusterNodes(input: Node[], request: NodeRequest, context: SimulationContext): Node[] {
  const names = new Set(input.map((n) => n.metadata.name));
  const added: Node[] = [];
  if (request.nodeName && !names.has(request.nodeName)) {
    added.push(simulatedNode(request.nodeName, request.nodeIPs));
    names.add(request.nodeName);
  }
  // sim-node-1..N already in the input are these nodes, from an earlier kpc
  // simulate: reading its output back with the same flags adds none.
  const extra = request.extra > 0 ? request.extra : names.size === 0 ? 1 : 0;
  for (let i = 1; i <= extra; i++) {
    const name = `${SIMULATED_NODE_PREFIX}${i}`;
    if (names.has(name)) continue;
    added.push(simulatedNode(name, []));
    names.add(name);
  }
  for (const node of added) context.note(`Node ${node.metadata.name}: simulated`);
  return [...input, ...added].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}

function simulatedNode(name: string, ips: string[]): Node {
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
  };
  if (ips.length) node.status = { addresses: ips.map((address) => ({ type: 'InternalIP', address })) };
  return node;
}

/**
 * Each node's pod CIDRs: spec.podCIDRs (or podCIDR) where given, else, as
 * the node IPAM controller does, a /24 (IPv4) or /64 (IPv6) of each cluster
 * CIDR, picked by the node's name with the same probe as cluster IPs.
 * Returns the nodes, those given CIDRs as new objects.
 */
export function withPodCIDRs(nodes: Node[], clusterCIDRs: string[], context: SimulationContext): Node[] {
  const ranges = new Map<IPFamily, { block: Block; bits: number; pool: Pool<string> }>();
  for (const text of clusterCIDRs) {
    const block = blockOf(text)!;
    if (ranges.has(block.family)) continue;
    const bits = Math.max(NODE_CIDR_MASK[block.family], block.bits);
    const width = block.family === 4 ? 32 : 128;
    ranges.set(block.family, { block, bits, pool: new Pool(1n << BigInt(Math.min(bits - block.bits, width)), 0n) });
  }
  const given = (node: Node) => node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []);
  for (const node of nodes) {
    for (const text of given(node)) {
      const block = blockOf(text);
      const range = block ? ranges.get(block.family) : undefined;
      if (!block || !range || block.bits !== range.bits) continue;
      const index = (block.network - range.block.network) >> BigInt((block.family === 4 ? 32 : 128) - range.bits);
      if (index >= 0n && index < range.pool.size) range.pool.reserve(index, node.metadata.name);
    }
  }
  return nodes.map((node) => {
    if (given(node).length) return node;
    const cidrs: string[] = [];
    for (const [family, range] of ranges) {
      const index = range.pool.allocate(node.metadata.name, node.metadata.name);
      if (index === null) context.note(`Node ${node.metadata.name}: no IPv${family} pod CIDR left in ${range.block.text}; its pods get no IPv${family} address`);
      else cidrs.push(subBlock(range.block, range.bits, index).text);
    }
    if (cidrs.length === 0) return node;
    context.note(`Node ${node.metadata.name}: pod CIDR ${cidrs.join(', ')}`);
    return { ...node, spec: { ...node.spec, podCIDR: cidrs[0]!, podCIDRs: cidrs } };
  });
}
