/**
 * Names and reasons read off the rules themselves: kube-proxy (and kpc) put
 * the service port name in every rule's comment (iptables) or chain name
 * (nftables), and say in the comment why a packet is refused.
 */

const SERVICE_PORT = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z]([-a-z0-9]*[a-z0-9])?(:[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/;

/** The `ns/name[:port]` word of a kube-proxy comment, or null for shared plumbing. */
export function commentService(comment: string): string | null {
  return comment.split(/\s+/).find((word) => SERVICE_PORT.test(word)) ?? null;
}

/** `service-HASH-ns/name/proto/port` (or external-, local-, firewall-, endpoint-) → `ns/name:port`. */
export function chainService(chain: string): string | null {
  const match = /^(?:service|external|local|firewall|endpoint)-[A-Z2-7]{8}-([^/]+)\/([^/]+)\/[a-z]+\/([^_/]*)(?:__.*)?$/.exec(chain);
  if (!match) return null;
  return match[3] ? `${match[1]}/${match[2]}:${match[3]}` : `${match[1]}/${match[2]}`;
}

export const NO_ENDPOINTS = 'no endpoints: the service port has no ready (or serving terminating) endpoint, so kube-proxy rejects at once';
export const NO_LOCAL_ENDPOINTS = 'no local endpoint: the traffic policy is Local and no endpoint runs on this node';
export const SOURCE_RANGE = 'source not allowed: the address is outside the service\'s loadBalancerSourceRanges';
export const NO_SUCH_PORT = 'no such service port: the cluster IP exists, but not with this port and protocol';
export const UNALLOCATED = 'unallocated cluster IP: the address is in a service CIDR, but no Service holds it';

/** Why an iptables DROP/REJECT rule refused the packet, from its chain and comment. */
export function refusalReason(chain: string, comment: string, verdict: 'drop' | 'reject'): string {
  if (/ has no endpoints$/.test(comment)) return NO_ENDPOINTS;
  if (/ has no local endpoints$/.test(comment)) return NO_LOCAL_ENDPOINTS;
  if (chain === 'KUBE-PROXY-FIREWALL' || / not accepted by KUBE-FW-/.test(comment)) return SOURCE_RANGE;
  if (chain === 'KUBE-FIREWALL') return 'outside traffic to a loopback address (kube-proxy blocks incoming localnet connections)';
  if (chain === 'KUBE-FORWARD') return 'conntrack calls the packet INVALID';
  return `${verdict} in ${chain}${comment ? ` (${comment})` : ''}`;
}

/** Why an nftables chain or map element refused the packet. */
export function nftRefusalReason(chain: string, map: string | null, verdict: 'drop' | 'reject'): string {
  if (map === 'no-endpoint-services' || map === 'no-endpoint-nodeports') return verdict === 'reject' ? NO_ENDPOINTS : NO_LOCAL_ENDPOINTS;
  if (chain.startsWith('firewall-') && chain !== 'firewall-check') return SOURCE_RANGE;
  // cluster-ips-check rejects a held cluster IP's other ports and drops the rest of the service CIDRs.
  if (chain === 'cluster-ips-check') return verdict === 'reject' ? NO_SUCH_PORT : UNALLOCATED;
  return `${verdict} in chain ${chain}`;
}
