import type { Endpoint, ServicePortRoute } from '../../graph/types.js';
import { base32Sha256 } from '../hash.js';

/**
 * kube-proxy's chain names: a prefix and 16 characters of base32(sha256(
 * servicePortName + protocol)), so kpc's chains match a live node's.
 */
function chain(prefix: string, route: ServicePortRoute, suffix = ''): string {
  return `${prefix}${base32Sha256(route.servicePortName + route.protocol.toLowerCase() + suffix, 16)}`;
}

export interface PortChains {
  /** KUBE-SVC-: Cluster-policy endpoints. */
  cluster: string;
  /** KUBE-SVL-: Local-policy endpoints. */
  local: string;
  /** KUBE-EXT-: external traffic. */
  external: string;
  /** KUBE-FW-: load-balancer source ranges. */
  firewall: string;
}

export function portChains(route: ServicePortRoute): PortChains {
  return {
    cluster: chain('KUBE-SVC-', route),
    local: chain('KUBE-SVL-', route),
    external: chain('KUBE-EXT-', route),
    firewall: chain('KUBE-FW-', route),
  };
}

/** KUBE-SEP-: one endpoint of one service port. */
export function endpointChain(route: ServicePortRoute, endpoint: Endpoint): string {
  return chain('KUBE-SEP-', route, endpoint.hostPort);
}
