import type { IPFamily } from '../graph/types.js';
import type { Node, Pod } from '../model/k8s.js';
import { ipFamily } from '../net/ip.js';
import { addressText, blockOf, offsetIn, type Block } from './block.js';
import type { SimulationContext } from './context.js';
import { weight } from './hash.js';
import { Pool } from './pool.js';

export function matchesSelector(node: Node, selector: Record<string, string>): boolean {
  const labels = node.metadata.labels ?? {};
  for (const key of Object.keys(selector)) if (labels[key] !== selector[key]) return false;
  return true;
}

/**
 * Puts each pod without spec.nodeName on a node its nodeSelector matches:
 * the node with the highest sha256(pod@node) weight (rendezvous hashing), so
 * a pod's node depends only on the pod and the nodes, never on other pods.
 * Taints, affinity and capacity are not simulated. Returns the pods, placed
 * ones as new objects; a pod no node matches stays unplaced (and unaddressed).
 */
export function placePods(pods: Pod[], nodes: Node[], context: SimulationContext): Pod[] {
  return pods.map((pod) => {
    if (pod.spec?.nodeName || pod.status?.podIP) return pod;
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    let best: Node | null = null;
    let bestWeight = -1n;
    for (const node of nodes) {
      if (!matchesSelector(node, pod.spec?.nodeSelector ?? {})) continue;
      const w = weight(key, node.metadata.name);
      if (w > bestWeight) [best, bestWeight] = [node, w];
    }
    if (!best) {
      context.note(`Pod ${key}: pending (no node matches its nodeSelector)`);
      return pod;
    }
    return { ...pod, spec: { ...pod.spec, nodeName: best.metadata.name } };
  });
}

interface NodeNetwork {
  pools: Map<IPFamily, { block: Block; pool: Pool<string> }>;
  /** The node's InternalIP of each family, for hostNetwork pods. */
  hostIPs: Map<IPFamily, string>;
}

/**
 * Gives each placed pod without status.podIP an address of each family in
 * its node's pod CIDRs, picked by the pod's namespace/name with the same
 * probe as cluster IPs (IPv4's network, first and broadcast addresses are
 * left out: the first is usually the bridge's), or its node's addresses for a
 * hostNetwork pod; and makes it Running and Ready. Pods that already have an
 * address keep it and hold it.
 */
export function addressPods(pods: Pod[], nodes: Node[], context: SimulationContext): Pod[] {
  const networks = new Map<string, NodeNetwork>();
  for (const node of nodes) networks.set(node.metadata.name, networkOf(node));
  for (const pod of pods) {
    const network = pod.spec?.nodeName ? networks.get(pod.spec.nodeName) : undefined;
    if (!network || pod.spec?.hostNetwork) continue;
    const ips = pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []);
    for (const ip of ips) {
      const family = ipFamily(ip);
      const range = family === null ? undefined : network.pools.get(family);
      const offset = range ? offsetIn(range.block, ip) : null;
      if (range && offset !== null && offset < range.pool.size) range.pool.reserve(offset, `${pod.metadata.namespace}/${pod.metadata.name}`);
    }
  }
  return pods.map((pod) => {
    if (pod.status?.podIP) return pod;
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const network = pod.spec?.nodeName ? networks.get(pod.spec.nodeName) : undefined;
    if (!network) {
      if (pod.spec?.nodeName) context.note(`Pod ${key}: its node ${pod.spec.nodeName} is not in the input; no address`);
      return pod;
    }
    const ips: string[] = [];
    if (pod.spec?.hostNetwork) ips.push(...network.hostIPs.values());
    else {
      for (const [family, range] of network.pools) {
        const slot = range.pool.allocate(key, key);
        if (slot === null) context.note(`Pod ${key}: no IPv${family} address left in ${range.block.text}`);
        else ips.push(addressText(range.block.network + slot, family));
      }
    }
    if (ips.length === 0) {
      context.note(`Pod ${key}: no address (${pod.spec?.hostNetwork ? 'hostNetwork, and its node has no InternalIP' : 'its node has no pod CIDR'})`);
      return pod;
    }
    context.note(`Pod ${key}: on ${pod.spec!.nodeName}, ${ips.join(', ')}`);
    return { ...pod, status: { phase: 'Running', podIP: ips[0]!, podIPs: ips.map((ip) => ({ ip })), conditions: [{ type: 'Ready', status: 'True' }] } };
  });
}

function networkOf(node: Node): NodeNetwork {
  const pools: NodeNetwork['pools'] = new Map();
  for (const text of node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : [])) {
    const block = blockOf(text);
    if (!block || pools.has(block.family)) continue;
    const skipped = block.family === 4 ? (block.bits <= 29 ? 3n : 0n) : block.bits <= 126 ? 2n : 0n;
    const first = skipped ? 2n : 0n;
    pools.set(block.family, { block: { ...block, network: block.network + first }, pool: new Pool(block.size - skipped, 0n) });
  }
  const hostIPs: NodeNetwork['hostIPs'] = new Map();
  for (const address of node.status?.addresses ?? []) {
    const family = address.type === 'InternalIP' ? ipFamily(address.address) : null;
    if (family !== null && !hostIPs.has(family)) hostIPs.set(family, address.address);
  }
  return { pools, hostIPs };
}
