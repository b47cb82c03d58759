/**
 * What a rule set means, read back from its text: the shape of the routing
 * graph seen from the wire. Readers for every format produce this, so two
 * rule sets compare by meaning: option order, implicit matches, probability
 * formatting, chain order, counters and comments do not count.
 */

export type Family = 4 | 6;

/** Endpoint `ip:port` (IPv6 in brackets) and the share of new connections it gets, 0..1. */
export type Shares = Record<string, number>;

/**
 * A new, empty Shares. It has no prototype, so V8 keeps it as a hash table
 * from the start: added key by key to a `{}` literal, 100,000 distinct
 * endpoint addresses would each get a hidden class of their own (a third of
 * kpc diff's time at 10,000 services). No prototype also means no inherited
 * names to mistake for endpoints.
 */
export function emptyShares(): Shares {
  return Object.create(null) as Shares;
}

export interface Frontend {
  /** `tcp 10.96.0.10:80` or `tcp nodeport 30080` (the key frontends are compared by). */
  key: string;
  /** What kind of address this is where the format says: 'cluster-ip', 'external' or 'node-port'. */
  kind: 'cluster-ip' | 'external' | 'node-port';
  /** The service port it belongs to (`ns/name:port`), where the format names it. */
  service: string | null;
  /** Where new connections go, for traffic that is not short-circuited. */
  endpoints: Shares;
  /** reject or drop when nothing is reachable for such traffic. */
  verdict: 'reject' | 'drop' | null;
  /** Policy Local: where traffic from pods and from the node goes instead (all endpoints), or null. */
  shortCircuit: Shares | null;
  /**
   * The node's own connections meet `verdict` before they can be
   * short-circuited: kube-proxy's nftables layouts before kubernetes#132456
   * (backported to 1.33 by #133969) checked no-endpoint-services in the
   * output hook before DNAT, so the node could not reach a load-balancer or external IP of a
   * policy Local service without a local endpoint (kubernetes#131765).
   */
  nodeMeetsVerdict: boolean;
  /** 'all', `off-cluster <cidr>`, 'none', or 'unknown' where the format does not say per frontend. */
  masquerade: string;
  /** ClientIP affinity timeout, or null. */
  affinitySeconds: number | null;
  /** loadBalancerSourceRanges allowed to reach it, or null when unrestricted. */
  sourceRanges: string[] | null;
}

export interface RuleSetModel {
  format: 'iptables' | 'nftables' | 'ipvs';
  families: Family[];
  /** Every frontend, keyed by `key` prefixed with `IPv4 `/`IPv6 `. */
  frontends: Map<string, Frontend>;
  /** Rules or objects that are neither kpc's nor kube-proxy's, listed rather than misread. */
  foreign: string[];
  /**
   * Ranges (`IPv4 10.96.0.0/16`) in which an address no Service holds is
   * dropped: kube-proxy's nftables `Drop traffic to unallocated ClusterIPs`,
   * sorted. Empty where nothing is dropped; kube-proxy's iptables and IPVS
   * modes never drop such traffic.
   */
  unallocatedDrop: string[];
}

export function emptyModel(format: RuleSetModel['format']): RuleSetModel {
  return { format, families: [], frontends: new Map(), foreign: [], unallocatedDrop: [] };
}

export function ipKey(protocol: string, ip: string, port: number | string): string {
  return `${protocol.toLowerCase()} ${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

export function nodePortKey(protocol: string, port: number | string): string {
  return `${protocol.toLowerCase()} nodeport ${port}`;
}

export function newFrontend(key: string, kind: Frontend['kind'], service: string | null): Frontend {
  return { key, kind, service, endpoints: emptyShares(), verdict: null, shortCircuit: null, nodeMeetsVerdict: false, masquerade: 'none', affinitySeconds: null, sourceRanges: null };
}
