import type { IPFamily } from '../graph/types.js';
import { ipFamily } from '../net/ip.js';
import type { Pod, Service, ServicePort } from './k8s.js';

/**
 * The EndpointSlice controller's rules for making a Service's endpoints out
 * of the Pods its selector matches (staging/src/k8s.io/endpointslice:
 * reconciler.go, utils.go, trafficdist). Two places apply them and must agree
 * to the byte: resolve (endpoints straight from Pods, when compiling) and
 * simulate (the EndpointSlice objects `kpc simulate` prints, which compile
 * back to the same rules).
 */

/** Whether the controller makes endpoints for this Service: a selector (not empty) and not ExternalName. */
export function hasPodEndpoints(service: Service): boolean {
  if (service.spec.type === 'ExternalName') return false;
  const selector = service.spec.selector;
  return selector !== undefined && selector !== null && Object.keys(selector).length > 0;
}

/**
 * The address families the controller keeps endpoints for
 * (getAddressTypesForService): spec.ipFamilies; else the cluster IP's family;
 * else, for a headless Service, both.
 */
export function serviceFamilies(service: Service): IPFamily[] {
  const families = service.spec.ipFamilies ?? [];
  const listed: IPFamily[] = [];
  for (const family of families) {
    const f: IPFamily = family === 'IPv6' ? 6 : 4;
    if (!listed.includes(f)) listed.push(f);
  }
  if (listed.length) return listed;
  const clusterIP = service.spec.clusterIP;
  if (clusterIP && clusterIP !== 'None') return [ipFamily(clusterIP) === 6 ? 6 : 4];
  return [4, 6];
}

/** The pod's addresses when it is an endpoint at all; null for terminal pods and pods without an IP (ShouldPodBeInEndpoints). */
export function endpointIPs(pod: Pod): [IPFamily, string][] | null {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return null;
  const ips = podIPs(pod);
  return ips.length > 0 ? ips : null;
}

/** The first address of each family, from status.podIPs, else status.podIP. */
function podIPs(pod: Pod): [IPFamily, string][] {
  const listed = pod.status?.podIPs;
  const ips: [IPFamily, string][] = [];
  if (listed?.length) for (const entry of listed) addFirstOfFamily(ips, entry.ip);
  else if (pod.status?.podIP) addFirstOfFamily(ips, pod.status.podIP);
  return ips;
}

function addFirstOfFamily(ips: [IPFamily, string][], ip: string): void {
  const family = ipFamily(ip);
  if (family && !ips.some(([known]) => known === family)) ips.push([family, ip]);
}

export interface PodConditions {
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/**
 * podToEndpoint: serving is the pod's Ready condition, terminating its
 * deletionTimestamp; ready is serving and not terminating, or always with
 * publishNotReadyAddresses.
 */
export function podConditions(pod: Pod, service: Service): PodConditions {
  const serving = isPodReady(pod);
  const terminating = Boolean(pod.metadata.deletionTimestamp);
  const ready = service.spec.publishNotReadyAddresses === true || (serving && !terminating);
  return { ready, serving, terminating };
}

function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The endpoint's hostname: the pod's spec.hostname when its spec.subdomain names the Service (ShouldSetHostname). */
export function endpointHostname(pod: Pod, service: Service): string | null {
  return pod.spec?.hostname && pod.spec.subdomain === service.metadata.name ? pod.spec.hostname : null;
}

/** One port of an endpoint: the service port's name and protocol, the pod's number. */
export interface ResolvedPort {
  name: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
}

/**
 * getEndpointPorts: each service port whose target the pod has, in the
 * Service's order; a port the pod cannot resolve is left out, so that pod
 * goes into slices with another port list.
 */
export function endpointPorts(service: Service, pod: Pod): ResolvedPort[] {
  const out: ResolvedPort[] = [];
  for (const port of service.spec.ports ?? []) {
    const target = resolveTargetPort(pod, port);
    if (target !== null) out.push({ name: port.name ?? '', protocol: port.protocol ?? 'TCP', port: target });
  }
  return out;
}

/** A numeric targetPort is used as is; a name is looked up among the pod's container ports by name and protocol (FindPort). */
export function resolveTargetPort(pod: Pod, port: ServicePort): number | null {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  return namedPorts(pod).get(`${target}/${port.protocol ?? 'TCP'}`) ?? null;
}

/** Each pod's named container ports, made on its first named lookup; the pods are the validated inventory, never changed after. */
const namedPortsOf = new WeakMap<Pod, Map<string, number>>();

/**
 * A pod's container ports by `name/PROTOCOL`, keeping the first of each in
 * container order, then port order, as FindPort finds it. Scanning every
 * container port for every service port cost n² for a Service of n named
 * ports on pods with n ports (80,000: 12 s).
 */
function namedPorts(pod: Pod): Map<string, number> {
  let named = namedPortsOf.get(pod);
  if (named !== undefined) return named;
  named = new Map();
  for (const container of pod.spec?.containers ?? []) {
    for (const containerPort of container.ports ?? []) {
      if (containerPort.name === undefined) continue;
      const key = `${containerPort.name}/${containerPort.protocol ?? 'TCP'}`;
      if (!named.has(key)) named.set(key, containerPort.containerPort);
    }
  }
  namedPortsOf.set(pod, named);
  return named;
}

/**
 * Which hints the controller writes for trafficDistribution (trafficdist):
 * PreferClose and PreferSameZone hint each ready endpoint for its own zone,
 * PreferSameNode for its zone and its node. Not-ready endpoints get none.
 */
export function hintMode(service: Service): { zone: boolean; node: boolean } {
  const distribution = service.spec.trafficDistribution;
  return {
    zone: distribution === 'PreferClose' || distribution === 'PreferSameZone' || distribution === 'PreferSameNode',
    node: distribution === 'PreferSameNode',
  };
}

/** The controller's default --max-endpoints-per-slice. */
export const MAX_ENDPOINTS_PER_SLICE = 100;
