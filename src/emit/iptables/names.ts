import type { Endpoint, ServicePortRoute } from '../../graph/types.js';
import { base32Sha256 } from '../hash.js';

/**
 * kube-proxy's chain names: a prefix and 16 characters of base32(sha256(
 * servicePortName + protocol)), so kpc's chains match a live node's.
 */
function chain(prefix: string, route: ServicePortRoute, suffix = ''): string {
  return `${prefix}${base32Sha256(route.servicePortName + route.protocol.toLowerCase() + suffix, 16)}`;
}

/**
 * A service port's chains, each named on first use: every name is a sha256,
 * and most ports use only KUBE-SVC- (no Local policy, no external traffic,
 * no source ranges).
 */
export class PortChains {
  #cluster?: string;
  #local?: string;
  #external?: string;
  #firewall?: string;

  constructor(private readonly route: ServicePortRoute) {}

  /** KUBE-SVC-: Cluster-policy endpoints. */
  get cluster(): string {
    return (this.#cluster ??= chain('KUBE-SVC-', this.route));
  }

  /** KUBE-SVL-: Local-policy endpoints. */
  get local(): string {
    return (this.#local ??= chain('KUBE-SVL-', this.route));
  }

  /** KUBE-EXT-: external traffic. */
  get external(): string {
    return (this.#external ??= chain('KUBE-EXT-', this.route));
  }

  /** KUBE-FW-: load-balancer source ranges. */
  get firewall(): string {
    return (this.#firewall ??= chain('KUBE-FW-', this.route));
  }
}

export function portChains(route: ServicePortRoute): PortChains {
  return new PortChains(route);
}

/** KUBE-SEP-: one endpoint of one service port. */
export function endpointChain(route: ServicePortRoute, endpoint: Endpoint): string {
  return chain('KUBE-SEP-', route, endpoint.hostPort);
}
