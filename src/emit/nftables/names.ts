import type { Endpoint, ServicePortRoute } from '../../graph/types.js';
import { base32Sha256 } from '../hash.js';

/** kube-proxy's hashAndTruncate: HASH8-base, so a chain name can be read back as its service port. */
function hashed(base: string): string {
  const name = `${base32Sha256(base, 8)}-${base}`;
  return name.length > 240 ? `${name.slice(0, 237)}...` : name;
}

/** `ns/name/proto/portName`: the service port's part of every per-port and per-endpoint name. */
function portKey(route: ServicePortRoute): string {
  return `${route.namespace}/${route.name}/${route.protocol.toLowerCase()}/${route.portName}`;
}

/** `__IP/port`, with IPv6 colons as dots (colons are not allowed in nft names). */
function endpointKey(endpoint: Endpoint): string {
  const ip = endpoint.ip.includes(':') ? endpoint.ip.replaceAll(':', '.') : endpoint.ip;
  return `__${ip}/${endpoint.port}`;
}

/** `ns/name/proto/portName`, hashed: the base of every per-port chain name. */
export function portBase(route: ServicePortRoute): string {
  return hashed(portKey(route));
}

/** `ns/name/proto/portName__IP/port`, hashed. */
export function endpointBase(route: ServicePortRoute, endpoint: Endpoint): string {
  return hashed(portKey(route) + endpointKey(endpoint));
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

export interface EndpointNames {
  chain: string;
  affinity: string;
}

/**
 * Both per-endpoint names of each of a port's endpoints, from one hash each
 * and the port's part of the name built once: a large rule set names
 * hundreds of thousands.
 */
export function endpointNamer(route: ServicePortRoute): (endpoint: Endpoint) => EndpointNames {
  const port = portKey(route);
  return (endpoint) => {
    const base = hashed(port + endpointKey(endpoint));
    return { chain: `endpoint-${base}`, affinity: `affinity-${base}` };
  };
}

/** Fixed names, as kube-proxy's nftables mode declares them. */
export const KUBE_PROXY_NAMES = {
  services: 'services',
  serviceIPs: 'service-ips',
  serviceNodePorts: 'service-nodeports',
  nodePortIPs: 'nodeport-ips',
  clusterIPs: 'cluster-ips',
  serviceEndpointsCheck: 'service-endpoints-check',
  nodePortEndpointsCheck: 'nodeport-endpoints-check',
  noEndpointServices: 'no-endpoint-services',
  noEndpointNodePorts: 'no-endpoint-nodeports',
  reject: 'reject-chain',
  clusterIPsCheck: 'cluster-ips-check',
  firewallIPs: 'firewall-ips',
  firewallCheck: 'firewall-check',
  markMasq: 'mark-for-masquerade',
  masquerading: 'masquerading',
} as const;
