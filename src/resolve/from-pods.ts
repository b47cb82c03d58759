import type { IPFamily } from '../graph/types.js';
import type { Pod, Service, ServicePort } from '../model/k8s.js';
import { canonicalIP, ipFamily } from '../net/ip.js';
import { EndpointCollector, makeEndpoint } from './endpoint.js';
import { withLazySubsets } from './lazy-subsets.js';
import { NO_HINTS, portKey, type EndpointSubset, type ServiceEndpoints } from './types.js';

export interface PodContext {
  localNode: string;
  /** Zone of each node, from Node objects, for endpoint zones and hints. */
  nodeZones: Map<string, string>;
}

/** A selected pod that is an endpoint, with what was worked out for it once. */
interface MemberPod {
  pod: Pod;
  ips: [IPFamily, string][];
  ready: boolean;
}

/**
 * Endpoints derived from Pods as the EndpointSlice controller derives them:
 * pods matching the selector in the Service's namespace, skipping terminal
 * pods and pods without an IP; ready = PodReady (or publishNotReadyAddresses)
 * and not terminating; named target ports resolved per pod.
 */
export function endpointsFromPods(service: Service, pods: Pod[], context: PodContext): ServiceEndpoints {
  const collector = new EndpointCollector();
  const members: MemberPod[] = [];
  const publishNotReady = service.spec.publishNotReadyAddresses === true;
  const hints = hintMode(service);
  const ports = (service.spec.ports ?? []).map((port) => ({ port, key: portKey(port.name, port.protocol) }));
  for (const pod of pods) {
    const ips = endpointIPs(pod);
    if (ips === null) continue;
    const terminating = Boolean(pod.metadata.deletionTimestamp);
    const serving = publishNotReady || isPodReady(pod);
    const ready = publishNotReady || (serving && !terminating);
    const nodeName = pod.spec?.nodeName ?? null;
    members.push({ pod, ips, ready });
    const zone = nodeName === null ? null : (context.nodeZones.get(nodeName) ?? null);
    for (const { port, key } of ports) {
      const target = resolveTargetPort(pod, port);
      if (target === null) continue;
      for (const [family, ip] of ips) {
        const facts = {
          ip,
          port: target,
          nodeName,
          zone,
          ready,
          serving,
          terminating,
          zoneHints: hints.zone && zone ? [zone] : NO_HINTS,
          nodeHints: hints.node && nodeName ? [nodeName] : NO_HINTS,
        };
        collector.add(key, family, makeEndpoint(facts, context.localNode));
      }
    }
  }
  return withLazySubsets(collector.finish('Pods'), () => subsetsOf(service, members));
}

function subsetsOf(service: Service, members: MemberPod[]): EndpointSubset[] {
  const subsets = new SubsetsByPorts();
  for (const member of members) subsets.add(service, member);
  return subsets.finish();
}

/**
 * The EndpointSlice controller puts pods whose ports resolve alike into one
 * slice per family, and names an endpoint by the pod's spec.hostname when the
 * pod's spec.subdomain is the Service's name.
 */
class SubsetsByPorts {
  private readonly groups = new Map<string, EndpointSubset>();

  add(service: Service, { pod, ips, ready }: MemberPod): void {
    const ports = (service.spec.ports ?? []).flatMap((port) => {
      const target = resolveTargetPort(pod, port);
      return target === null ? [] : [{ name: port.name ?? '', protocol: port.protocol ?? 'TCP', port: target }];
    });
    const hostname = pod.spec?.hostname && pod.spec.subdomain === service.metadata.name ? pod.spec.hostname : null;
    for (const [family, ip] of ips) {
      const name = `Pods IPv${family} ${ports.map((p) => `${p.name}/${p.protocol}/${p.port}`).join(',')}`.trimEnd();
      let group = this.groups.get(name);
      if (!group) this.groups.set(name, (group = { name, ports, addresses: [] }));
      group.addresses.push({ ip: canonicalIP(ip), family, ready, hostname, nodeName: pod.spec?.nodeName ?? null });
    }
  }

  finish(): EndpointSubset[] {
    return [...this.groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

/** The pod's addresses when it is an endpoint; null for terminal pods and pods without an IP. */
function endpointIPs(pod: Pod): [IPFamily, string][] | null {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return null;
  const ips = podIPs(pod);
  return ips.length > 0 ? ips : null;
}

function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
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

/** A numeric targetPort is used as is; a name is looked up among the pod's container ports by name and protocol. */
function resolveTargetPort(pod: Pod, port: ServicePort): number | null {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  return namedPorts(pod).get(portKey(target, port.protocol)) ?? null;
}

/** Each pod's named container ports, made on its first named lookup; the pods are the validated inventory, never changed after. */
const namedPortsOf = new WeakMap<Pod, Map<string, number>>();

/**
 * A pod's container ports by `name/PROTOCOL`, keeping the first of each in
 * container order, then port order, as the EndpointSlice controller finds it
 * (podutil.FindPort). Scanning every container port for every service port
 * cost n² for a Service of n named ports on pods with n ports (80,000: 12 s).
 */
function namedPorts(pod: Pod): Map<string, number> {
  let named = namedPortsOf.get(pod);
  if (named !== undefined) return named;
  named = new Map();
  for (const container of pod.spec?.containers ?? []) {
    for (const containerPort of container.ports ?? []) {
      if (containerPort.name === undefined) continue;
      const key = portKey(containerPort.name, containerPort.protocol);
      if (!named.has(key)) named.set(key, containerPort.containerPort);
    }
  }
  namedPortsOf.set(pod, named);
  return named;
}

/**
 * The EndpointSlice controller fills hints for trafficDistribution: each
 * endpoint is hinted for its own zone (or node, for PreferSameNode).
 */
function hintMode(service: Service): { zone: boolean; node: boolean } {
  const distribution = service.spec.trafficDistribution;
  return {
    zone: distribution === 'PreferClose' || distribution === 'PreferSameZone' || distribution === 'PreferSameNode',
    node: distribution === 'PreferSameNode',
  };
}
