import type { IPFamily } from '../graph/types.js';
import type { Pod, Service } from '../model/k8s.js';
import { endpointHostname, endpointIPs, endpointPorts, hintMode, MAX_ENDPOINTS_PER_SLICE, podConditions, resolveTargetPort, serviceFamilies } from '../model/pod-endpoints.js';
import { canonicalIP } from '../net/ip.js';
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
 * Endpoints derived from Pods as the EndpointSlice controller derives them
 * (src/model/pod-endpoints.ts): pods matching the selector in the Service's
 * namespace, skipping terminal pods and pods without an IP, addresses of the
 * Service's families only; ready = PodReady (or publishNotReadyAddresses)
 * and not terminating; named target ports resolved per pod; hints only on
 * ready endpoints. `kpc simulate` writes the same endpoints as EndpointSlices
 * (src/simulate/endpoint-slices.ts): both must stay in step.
 */
export function endpointsFromPods(service: Service, pods: Pod[], context: PodContext): ServiceEndpoints {
  const collector = new EndpointCollector();
  const members: MemberPod[] = [];
  const families = serviceFamilies(service);
  const hints = hintMode(service);
  const ports = (service.spec.ports ?? []).map((port) => ({ port, key: portKey(port.name, port.protocol) }));
  for (const pod of pods) {
    const all = endpointIPs(pod);
    if (all === null) continue;
    const ips = all.filter(([family]) => families.includes(family));
    const { ready, serving, terminating } = podConditions(pod, service);
    const nodeName = pod.spec?.nodeName ?? null;
    members.push({ pod, ips, ready });
    if (ips.length === 0) continue;
    const zone = nodeName === null ? null : (context.nodeZones.get(nodeName) ?? null);
    const zoneHints = ready && hints.zone && zone ? [zone] : NO_HINTS;
    const nodeHints = ready && hints.node && nodeName ? [nodeName] : NO_HINTS;
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
          zoneHints: zoneHints === NO_HINTS ? NO_HINTS : [...zoneHints],
          nodeHints: nodeHints === NO_HINTS ? NO_HINTS : [...nodeHints],
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
 * The EndpointSlice controller puts pods whose ports resolve alike into
 * slices of one family, at most 100 endpoints each (in pod order, as `kpc
 * simulate` writes them), and names an endpoint by the pod's spec.hostname
 * when the pod's spec.subdomain is the Service's name.
 */
class SubsetsByPorts {
  private readonly groups = new Map<string, EndpointSubset[]>();

  add(service: Service, { pod, ips, ready }: MemberPod): void {
    const ports = endpointPorts(service, pod);
    const hostname = endpointHostname(pod, service);
    for (const [family, ip] of ips) {
      const name = `Pods IPv${family} ${ports.map((p) => `${p.name}/${p.protocol}/${p.port}`).join(',')}`.trimEnd();
      let chunks = this.groups.get(name);
      if (!chunks) this.groups.set(name, (chunks = []));
      let group = chunks[chunks.length - 1];
      if (!group || group.addresses.length === MAX_ENDPOINTS_PER_SLICE) chunks.push((group = { name: `${name} #${chunks.length}`, ports, addresses: [] }));
      group.addresses.push({ ip: canonicalIP(ip), family, ready, hostname, nodeName: pod.spec?.nodeName ?? null });
    }
  }

  finish(): EndpointSubset[] {
    return [...this.groups.values()].flat().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
