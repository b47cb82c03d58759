import type { Endpoint, RoutingGraph, ServicePortRoute } from '../../graph/types.js';
import { assertToken } from '../safe-text.js';
import type { TextBlock } from '../text-block.js';

const PROTOCOL_FLAG = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' } as const;

/** The IPVS scheduler flags kube-proxy sets: mh hashes the source port too. */
const SCHEDULER_FLAGS: Record<string, string> = { mh: 'mh-port' };

export interface VirtualServer {
  address: string;
  route: ServicePortRoute;
  realServers: Endpoint[];
}

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * Every virtual server kube-proxy's IPVS mode creates for a service port: the
 * cluster IP, each external and load-balancer IP, and the node port on each
 * node address. A Local policy limits the real servers to this node's endpoints
 * while there are any (see realServers).
 */
export function virtualServers(route: ServicePortRoute, graph: RoutingGraph): VirtualServer[] {
  const internalPolicyLocal = route.internal.target === 'local' || route.internal.verdict === 'drop';
  const internal = realServers(route, internalPolicyLocal);
  const external = realServers(route, route.external?.policy === 'Local');
  const servers: VirtualServer[] = [{ address: hostPort(route.clusterIP, route.port), route, realServers: internal }];
  for (const ip of [...route.externalIPs, ...route.loadBalancerIPs]) servers.push({ address: hostPort(ip, route.port), route, realServers: external });
  if (route.nodePort !== null) {
    for (const ip of nodePortAddresses(graph, route)) servers.push({ address: hostPort(ip, route.nodePort), route, realServers: external });
  }
  return servers;
}

/**
 * kube-proxy's syncEndpoint (pkg/proxy/ipvs/proxier.go): a Local policy takes
 * this node's endpoints, but with none here it falls back to the cluster
 * endpoints (kubernetes#97081: pods on a node without a local endpoint still
 * reach the service; outside traffic is forwarded unmasqueraded, so on a real
 * network its reply, from the pod's address, is lost). IPVS mode never drops
 * for a Local policy. The cluster list is empty when no traffic class uses it
 * (a ClusterIP service with internalTrafficPolicy Local): then the virtual
 * server has no real servers and IPVS refuses the connection.
 */
function realServers(route: ServicePortRoute, policyLocal: boolean): Endpoint[] {
  if (policyLocal && route.localEndpoints.length > 0) return route.localEndpoints;
  return route.clusterEndpoints;
}

export function nodePortAddresses(graph: RoutingGraph, route: ServicePortRoute): string[] {
  const listed = graph.node.nodePortAddresses[route.family];
  return (listed ?? graph.node.ips[route.family]).filter((ip) => ip !== '127.0.0.1' && ip !== '::1');
}

/** `ipvsadm -R` lines for one virtual server and its real servers (masquerade forwarding, weight 1). */
export function writeIpvsadm(out: TextBlock, server: VirtualServer): void {
  const { route } = server;
  const proto = PROTOCOL_FLAG[route.protocol];
  const address = assertToken(server.address);
  const persistence = route.affinityTimeoutSeconds === null ? '' : ` -p ${route.affinityTimeoutSeconds}`;
  const flags = SCHEDULER_FLAGS[route.ipvsScheduler] ? ` -b ${SCHEDULER_FLAGS[route.ipvsScheduler]}` : '';
  out.line(`-A ${proto} ${address} -s ${route.ipvsScheduler}${flags}${persistence}`);
  for (const endpoint of server.realServers) out.line(`-a ${proto} ${address} -r ${assertToken(endpoint.hostPort)} -m -w 1`);
}
