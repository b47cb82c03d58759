import type { Inventory, Service, ServicePort } from '../model/k8s.js';
import { canonicalIP, cidrContains, ipFamily, parseCIDR } from '../net/ip.js';
import type { ServiceEndpoints } from '../resolve/index.js';
import { portKey } from '../resolve/types.js';
import { categorizeEndpoints, type Categorized, type PolicyFacts } from './categorize.js';
import { SCHEDULER_ANNOTATION } from './ipvs-schedulers.js';
import { filterByTopologyKeys } from './topology-keys.js';
import type { Endpoint, EndpointSet, ExternalRoute, FirewallRoute, IPFamily, InternalRoute, NodeContext, RoutingGraph, ServicePortRoute, SkippedService } from './types.js';

const DEFAULT_AFFINITY_SECONDS = 10800;

/** Builds the routing graph for one node. Pure: the same input gives the same graph. */
export function buildGraph(inventory: Inventory, resolved: Map<Service, ServiceEndpoints>, node: NodeContext): RoutingGraph {
  const nodeLabels = new Map(inventory.nodes.map((n) => [n.metadata.name, n.metadata.labels ?? {}]));
  const servicePorts: ServicePortRoute[] = [];
  const skipped: SkippedService[] = [];
  for (const service of inventory.services) {
    const reason = skipReason(service);
    if (reason) {
      skipped.push({ namespace: service.metadata.namespace!, name: service.metadata.name, reason });
      continue;
    }
    const endpoints = resolved.get(service)!;
    for (const [family, clusterIP] of clusterIPsByFamily(service)) {
      for (const port of service.spec.ports ?? []) {
        servicePorts.push(buildServicePort(service, port, family, clusterIP, endpoints, node, nodeLabels));
      }
    }
  }
  servicePorts.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { node, servicePorts, skipped };
}

/** kube-proxy's ShouldSkipService: no cluster IP means nothing to proxy. */
function skipReason(service: Service): string | null {
  const spec = service.spec;
  if ((spec.type ?? 'ClusterIP') === 'ExternalName') return 'type ExternalName: answered by DNS (a CNAME), no proxy rules';
  if (spec.clusterIP === 'None' || spec.clusterIPs?.[0] === 'None') return 'headless (clusterIP: None): clients reach pods directly through DNS, no proxy rules';
  if (!spec.clusterIP && !spec.clusterIPs?.length) return 'no clusterIP allocated yet (the API server assigns one; set spec.clusterIP to compile this Service)';
  return null;
}

/** The Service's families in the order its cluster IPs give them, each with its (first) cluster IP, canonical. */
function clusterIPsByFamily(service: Service): [IPFamily, string][] {
  const ips = service.spec.clusterIPs?.length ? service.spec.clusterIPs : [service.spec.clusterIP!];
  const byFamily: [IPFamily, string][] = [];
  for (const ip of ips) {
    const family = ipFamily(ip)!;
    if (!byFamily.some(([known]) => known === family)) byFamily.push([family, canonicalIP(ip)]);
  }
  return byFamily;
}

/** The distinct canonical addresses of one family, in their first order. */
function ofFamily(ips: string[] | undefined, family: IPFamily): string[] {
  // Most Services have no external or load-balancer IPs: answer those without building a set.
  if (!ips?.length) return [];
  const canonical = ips.filter((ip) => ipFamily(ip) === family).map(canonicalIP);
  return [...new Set(canonical)];
}

function loadBalancerAddresses(service: Service): string[] {
  const ingress = service.status?.loadBalancer?.ingress;
  if (!ingress?.length) return [];
  return ingress.filter((i) => i.ip && i.ipMode !== 'Proxy').map((i) => i.ip!);
}

function buildServicePort(
  service: Service,
  port: ServicePort,
  family: IPFamily,
  clusterIP: string,
  resolved: ServiceEndpoints,
  node: NodeContext,
  nodeLabels: Map<string, Record<string, string>>,
): ServicePortRoute {
  const spec = service.spec;
  const type = spec.type ?? 'ClusterIP';
  const namespace = service.metadata.namespace!;
  const name = service.metadata.name;
  const portName = port.name ?? '';
  const protocol = port.protocol ?? 'TCP';
  const servicePortName = portName ? `${namespace}/${name}:${portName}` : `${namespace}/${name}`;
  const nodePort = (type === 'NodePort' || type === 'LoadBalancer') && port.nodePort ? port.nodePort : null;
  const externalIPs = ofFamily(spec.externalIPs, family);
  const loadBalancerIPs = ofFamily(loadBalancerAddresses(service), family);
  const serviceAccessible = type === 'NodePort' || type === 'LoadBalancer' || (spec.externalIPs?.length ?? 0) > 0;
  const facts: PolicyFacts = {
    internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
    externalPolicyLocal: serviceAccessible && spec.externalTrafficPolicy === 'Local',
    externallyAccessible: nodePort !== null || externalIPs.length > 0 || loadBalancerIPs.length > 0,
  };
  const notes: string[] = [];
  let endpoints: Endpoint[] = resolved.byPort.get(portKey(port.name, protocol))?.[family] ?? [];
  if (spec.topologyKeys?.length) {
    const filtered = filterByTopologyKeys(endpoints, spec.topologyKeys, node, nodeLabels);
    endpoints = filtered.endpoints;
    notes.push(filtered.note);
  }
  const chosen = categorizeEndpoints(endpoints, facts, node);
  notes.push(`endpoints from ${resolved.source === 'none' ? 'nowhere (no EndpointSlice, Endpoints or matching Pod)' : resolved.source}`, ...chosen.notes);
  const route: ServicePortRoute = {
    id: routeId(namespace, name, protocol, portName, family),
    namespace,
    name,
    portName,
    servicePortName,
    family,
    protocol,
    clusterIP,
    port: port.port,
    nodePort,
    externalIPs,
    loadBalancerIPs,
    healthCheckNodePort: type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local' ? (spec.healthCheckNodePort ?? null) : null,
    affinityTimeoutSeconds: spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : null,
    ipvsScheduler: service.metadata.annotations?.[SCHEDULER_ANNOTATION] ?? node.ipvsScheduler,
    endpoints,
    clusterEndpoints: chosen.clusterEndpoints,
    localEndpoints: chosen.localEndpoints,
    reachableEndpoints: chosen.reachableEndpoints,
    hasEndpoints: chosen.hasEndpoints,
    endpointSets: [],
    internal: internalRoute(facts, chosen, node, family),
    external: facts.externallyAccessible ? externalRoute(facts, chosen, node, family) : null,
    firewall: firewallRoute(chosen, loadBalancerIPs, spec.loadBalancerSourceRanges, node, family),
    notes,
  };
  route.endpointSets = (['cluster', 'local'] as const).filter((set) => routesTo(route, set));
  return route;
}

/**
 * `namespace/name/PROTOCOL/portName/family`, the sort key of the graph's
 * service ports. Joined rather than written as a template: a template makes
 * a chain of pieces that the sort's first comparison of each id copies into
 * one string, which was most of the sort's time at 10,000 ports (and garbage);
 * join makes that one string at once.
 */
function routeId(namespace: string, name: string, protocol: string, portName: string, family: IPFamily): string {
  return [namespace, name, protocol, portName, family].join('/');
}

/** Whether some traffic class of the port is sent to this endpoint list, and it has endpoints. */
function routesTo(route: ServicePortRoute, set: EndpointSet): boolean {
  const endpoints = set === 'local' ? route.localEndpoints : route.clusterEndpoints;
  if (endpoints.length === 0) return false;
  if (route.internal.target === set) return true;
  const external = route.external;
  if (!external?.hasChain) return false;
  return external.target === set || (set === 'cluster' && (external.podsToCluster || external.nodeToCluster));
}

function internalRoute(facts: PolicyFacts, chosen: Categorized, node: NodeContext, family: IPFamily): InternalRoute {
  const target = facts.internalPolicyLocal ? 'local' : 'cluster';
  const reachable = chosen.hasEndpoints && (!facts.internalPolicyLocal || chosen.localEndpoints.length > 0);
  return {
    target: reachable ? target : null,
    verdict: !chosen.hasEndpoints ? 'reject' : reachable ? null : 'drop',
    masquerade: node.masqueradeAll ? 'all' : node.clusterCIDR[family] ? 'off-cluster' : 'none',
  };
}

function externalRoute(facts: PolicyFacts, chosen: Categorized, node: NodeContext, family: IPFamily): ExternalRoute {
  const local = facts.externalPolicyLocal;
  const reachable = chosen.hasEndpoints && (!local || chosen.localEndpoints.length > 0);
  return {
    policy: local ? 'Local' : 'Cluster',
    hasChain: chosen.hasEndpoints,
    masqueradeAll: !local,
    podsToCluster: local && node.clusterCIDR[family] !== null,
    nodeToCluster: local,
    target: reachable ? (local ? 'local' : 'cluster') : null,
    verdict: !chosen.hasEndpoints ? 'reject' : reachable ? null : 'drop',
  };
}

/**
 * Who may reach the load-balancer IPs: the Service's source ranges of this
 * family, parsed only for a port with load-balancer IPs and endpoints. A range
 * of prefix length 0 (0.0.0.0/0, ::/0) lets every source in, which is what no
 * ranges mean: no firewall for that family, as kube-proxy decides it for all
 * its modes (pkg/proxy/serviceport.go, kubernetes#132722). Kept, it would be a
 * firewall that drops nothing, and an entry ipset's hash:ip,port,net refuses.
 */
function firewallRoute(chosen: Categorized, loadBalancerIPs: string[], ranges: string[] | undefined, node: NodeContext, family: IPFamily): FirewallRoute | null {
  if (!chosen.hasEndpoints || loadBalancerIPs.length === 0 || !ranges?.length) return null;
  const cidrs = ranges.map((r) => parseCIDR(r.trim())!).filter((c) => c.family === family);
  if (cidrs.length === 0 || cidrs.some((c) => c.range[1] === 0)) return null;
  const sourceRanges = cidrs.map((c) => c.text);
  const primary = node.ips[family][0];
  const allowFromNode = primary !== undefined && sourceRanges.some((r) => cidrContains(parseCIDR(r)!, primary));
  return { sourceRanges, allowLoadBalancerIPsAsSource: allowFromNode };
}
