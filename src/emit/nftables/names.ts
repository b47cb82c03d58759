import type { Endpoint, ServicePortRoute } from '../../graph/types.js';
import { base32Sha256 } from '../hash.js';

/** kube-proxy's hashAndTruncate: HASH8-base, so a chain name can be read back as its service port. */
function hashed(base: string): string {
  const name = `${base32Sha256(base, 8)}-${base}`;
  return name.length > 240 ? `${name.slice(0, 237)}...` : name;
}

/** `ns/name/proto/portName`, the base of every per-port chain name. */
export function portBase(route: ServicePortRoute): string {
  return hashed(`${route.namespace}/${route.name}/${route.protocol.toLowerCase()}/${route.portName}`);
}

/** `ns/name/proto/portName__IP/port`, with IPv6 colons as dots (colons are not allowed in nft names). */
export function endpointBase(route: ServicePortRoute, endpoint: Endpoint): string {
  const ip = endpoint.ip.replaceAll(':', '.');
  return hashed(`${route.namespace}/${route.name}/${route.protocol.toLowerCase()}/${route.portName}__${ip}/${endpoint.port}`);
}

export interface NftPortChains {
  cluster: string;
  local: string;
  external: string;
  firewall: string;
}

export function nftPortChains(route: ServicePortRoute): NftPortChains {
  const base = portBase(route);
  return { cluster: `service-${base}`, local: `local-${base}`, external: `external-${base}`, firewall: `firewall-${base}` };
}

export function endpointChainName(route: ServicePortRoute, endpoint: Endpoint): string {
  return `endpoint-${endpointBase(route, endpoint)}`;
}

export function affinitySetName(route: ServicePortRoute, endpoint: Endpoint): string {
  return `affinity-${endpointBase(route, endpoint)}`;
}

/** Both per-endpoint names from one hash: a large rule set names hundreds of thousands. */
export function endpointNames(route: ServicePortRoute, endpoint: Endpoint): { chain: string; affinity: string } {
  const base = endpointBase(route, endpoint);
  return { chain: `endpoint-${base}`, affinity: `affinity-${base}` };
}
