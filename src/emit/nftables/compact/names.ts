/**
 * Names of the compact layout's objects. Its chains, sets and maps are fixed,
 * or one per distinct endpoint count (`cluster-n3` picks one of 3), never one
 * per Service; ClientIP affinity adds objects per distinct (kind, protocol,
 * timeout) and endpoint count, also never per Service.
 */

/** Which endpoint list a DNAT chain picks from, and by which key. */
import { KUBE_PROXY_NAMES } from '../names.js';

export type Pick = 'cluster' | 'local' | 'nodeport-cluster' | 'nodeport-local';

export const PICKS: readonly Pick[] = ['cluster', 'local', 'nodeport-cluster', 'nodeport-local'];

/** The chain that DNATs to one of `n` endpoints: `cluster-n3`. */
export function pickChain(pick: Pick, n: number): string {
  return `${pick}-n${n}`;
}

/** The map of that chain: frontend key . index -> endpoint address . port. */
export function pickMap(pick: Pick, n: number): string {
  return `${pick}-endpoints-n${n}`;
}

/**
 * ClientIP affinity's dynamic timeout set for one kind, protocol and timeout:
 * `affinity-cluster-tcp-10800`, elements client . frontend . endpoint index.
 */
export function affinitySet(pick: Pick, protocol: string, seconds: number): string {
  return `affinity-${pick}-${protocol}-${seconds}`;
}

/** The chain that sends a remembered client back to its index, or picks one of `n` and remembers it. */
export function affinityChain(pick: Pick, n: number, protocol: string, seconds: number): string {
  return `${pickChain(pick, n)}-affinity-${protocol}-${seconds}`;
}

/** The chain that remembers index `i` and DNATs to it. */
export function affinityIndexChain(pick: Pick, n: number, protocol: string, seconds: number, i: number): string {
  return `${affinityChain(pick, n, protocol, seconds)}-${i}`;
}

/** Fixed names: kube-proxy's layout's own, with the same meaning, and the compact layout's. */
export const CN = {
  ...KUBE_PROXY_NAMES,
  externalEndpointsCheck: 'external-endpoints-check',
  noLocalEndpointExternal: 'no-local-endpoint-external',
  firewallAllow: 'firewall-allow',
  /** Frontends whose every new connection is masqueraded. */
  masqIPs: 'masquerade-ips',
  masqNodePorts: 'masquerade-nodeports',
  /** Cluster IPs masqueraded for sources outside the cluster CIDR. */
  masqOffCluster: 'masquerade-off-cluster-ips',
  /** Policy Local frontends: traffic from this node is masqueraded and goes to all endpoints. */
  nodeToClusterIPs: 'node-to-cluster-ips',
  nodeToClusterNodePorts: 'node-to-cluster-nodeports',
  /** Policy Local frontends: traffic from pods goes to all endpoints. */
  podsToClusterIPs: 'pods-to-cluster-ips',
  podsToClusterNodePorts: 'pods-to-cluster-nodeports',
  /** Policy Local frontends: what the rest of the traffic gets. */
  externalLocalIPs: 'external-local-ips',
  externalLocalNodePorts: 'external-local-nodeports',
  externalLocal: 'external-local',
  nodePortExternalLocal: 'nodeport-external-local',
  /** endpoint . endpoint for every endpoint address: a connection DNATed back to its source (hairpin). */
  hairpin: 'hairpin',
} as const;

/** The table comment that tells a reader (and a person) which layout a table holds. */
export const COMPACT_COMMENT = 'rules for kube-proxy (kpc compact layout)';
