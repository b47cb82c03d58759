import type { IPFamily } from '../graph/types.js';
import type { EndpointSlice, Inventory, Pod, Service } from '../model/k8s.js';
import { endpointHostname, endpointIPs, endpointPorts, hasPodEndpoints, hintMode, MAX_ENDPOINTS_PER_SLICE, podConditions, serviceFamilies, type ResolvedPort } from '../model/pod-endpoints.js';
import { canonicalIP } from '../net/ip.js';
import { PodIndex } from '../resolve/pod-index.js';
import { SERVICE_NAME_LABEL } from '../validate/endpoint-slice.js';
import { suffix } from './hash.js';

export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
const HEADLESS_LABEL = 'service.kubernetes.io/headless';
const ZONE_LABEL = 'topology.kubernetes.io/zone';
/** The API server cuts a generateName to this length before adding its 5 characters. */
const MAX_GENERATED_BASE = 58;

type SliceEndpoint = NonNullable<EndpointSlice['endpoints']>[number];

/**
 * The EndpointSlices the EndpointSlice controller would create for the
 * Services of a completed inventory: one set per address family of each
 * Service with a selector (not ExternalName), pods whose ports resolve alike
 * together, at most 100 endpoints a slice, and one empty placeholder slice for
 * a family with none. The rules are src/model/pod-endpoints.ts, the ones the
 * resolver applies to Pods, so the slices compile to the rules the Pods do.
 *
 * A Service that already has EndpointSlices or Endpoints in the input gets
 * none: the resolver reads those instead of its Pods, and so must a second
 * run. One difference from the controller, on purpose: it leaves out a pod
 * whose node does not exist; kpc's inputs often hold no Node at all, so the
 * resolver keeps such a pod, and so does this.
 *
 * Only `kpc simulate` prints these; compiling with --simulate resolves the
 * same endpoints straight from the Pods without making objects. Names are
 * `SERVICE-XXXXX`, the five characters from the Service, the family, the
 * port list and the slice's index, so they do not change with other objects.
 * Returned sorted by namespace/name.
 */
export function endpointSlicesFor(inventory: Inventory): EndpointSlice[] {
  const taken = new Set<string>();
  const owned = new Set<string>();
  for (const slice of inventory.endpointSlices) {
    taken.add(`${slice.metadata.namespace}/${slice.metadata.name}`);
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (service) owned.add(`${slice.metadata.namespace}/${service}`);
  }
  for (const endpoints of inventory.endpoints) owned.add(`${endpoints.metadata.namespace}/${endpoints.metadata.name}`);
  const zones = new Map<string, string>();
  for (const node of inventory.nodes) {
    const zone = node.metadata.labels?.[ZONE_LABEL];
    if (zone) zones.set(node.metadata.name, zone);
  }
  let pods: PodIndex | null = null;
  const slices: EndpointSlice[] = [];
  for (const service of inventory.services) {
    const { namespace, name } = service.metadata;
    if (!hasPodEndpoints(service) || owned.has(`${namespace}/${name}`)) continue;
    pods ??= new PodIndex(inventory.pods);
    slices.push(...slicesOf(service, byName(pods.select(namespace!, service.spec.selector!)), zones, taken));
  }
  const key = (s: EndpointSlice) => `${s.metadata.namespace}/${s.metadata.name}`;
  return slices.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Pods in namespace/name order, the order endpoints fill slices in (the controller's is its cache's). */
function byName(pods: Pod[]): Pod[] {
  const key = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;
  return [...pods].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** One Service's slices, all families (reconcileByAddressType, reconcileByPortMapping, and the placeholder). */
export function slicesOf(service: Service, pods: Pod[], zones: Map<string, string>, taken: Set<string> = new Set()): EndpointSlice[] {
  const out: EndpointSlice[] = [];
  for (const family of serviceFamilies(service)) {
    const groups = new Map<string, { ports: ResolvedPort[]; endpoints: SliceEndpoint[] }>();
    for (const pod of pods) {
      const ips = endpointIPs(pod);
      if (ips === null) continue;
      const ports = endpointPorts(service, pod);
      const portsKey = ports.map((p) => `${p.name}/${p.protocol}/${p.port}`).join(',');
      let group = groups.get(portsKey);
      if (!group) groups.set(portsKey, (group = { ports, endpoints: [] }));
      const ip = ips.find(([f]) => f === family)?.[1];
      if (ip !== undefined) group.endpoints.push(endpointOf(pod, canonicalIP(ip), service, zones));
    }
    let made = 0;
    for (const [portsKey, group] of groups) {
      for (let i = 0; i * MAX_ENDPOINTS_PER_SLICE < group.endpoints.length; i++, made++) {
        const endpoints = group.endpoints.slice(i * MAX_ENDPOINTS_PER_SLICE, (i + 1) * MAX_ENDPOINTS_PER_SLICE);
        out.push(sliceObject(service, family, `${portsKey}#${i}`, group.ports, endpoints, taken));
      }
    }
    // When no slice would exist, the controller still writes one, with no ports and no endpoints.
    if (made === 0) out.push(sliceObject(service, family, 'placeholder', [], [], taken));
  }
  return out;
}

/** podToEndpoint, with hints as trafficDistribution asks for them. */
function endpointOf(pod: Pod, ip: string, service: Service, zones: Map<string, string>): SliceEndpoint {
  const conditions = podConditions(pod, service);
  const endpoint: SliceEndpoint = { addresses: [ip], conditions: { ...conditions } };
  const hostname = endpointHostname(pod, service);
  if (hostname !== null) endpoint.hostname = hostname;
  endpoint.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name };
  const nodeName = pod.spec?.nodeName;
  if (nodeName) endpoint.nodeName = nodeName;
  const zone = nodeName ? zones.get(nodeName) : undefined;
  if (zone) endpoint.zone = zone;
  const hints = hintMode(service);
  if (conditions.ready && ((hints.zone && zone) || (hints.node && nodeName))) {
    endpoint.hints = {};
    if (hints.zone && zone) endpoint.hints.forZones = [{ name: zone }];
    if (hints.node && nodeName) endpoint.hints.forNodes = [{ name: nodeName }];
  }
  return endpoint;
}

/** newEndpointSlice: the Service's labels and the controller's, owned by the Service, named as the API server names a generateName. */
function sliceObject(service: Service, family: IPFamily, key: string, ports: ResolvedPort[], endpoints: SliceEndpoint[], taken: Set<string>): EndpointSlice {
  const { namespace, name } = service.metadata;
  const generateName = `${name}-`.slice(0, MAX_GENERATED_BASE);
  const addressType = family === 4 ? 'IPv4' : 'IPv6';
  const seed = `${namespace}/${name}:EndpointSlice:${addressType}:${key}`;
  let sliceName = `${generateName}${suffix(seed, 5)}`;
  for (let attempt = 1; taken.has(`${namespace}/${sliceName}`); attempt++) sliceName = `${generateName}${suffix(`${seed}#${attempt}`, 5)}`;
  taken.add(`${namespace}/${sliceName}`);
  const labels: Record<string, string> = {};
  for (const label of Object.keys(service.metadata.labels ?? {}).sort()) {
    if (label !== SERVICE_NAME_LABEL && label !== MANAGED_BY_LABEL && label !== HEADLESS_LABEL) labels[label] = service.metadata.labels![label]!;
  }
  if (!service.spec.clusterIP || service.spec.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  labels[SERVICE_NAME_LABEL] = name;
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  const owner: NonNullable<EndpointSlice['metadata']['ownerReferences']>[number] = { apiVersion: 'v1', kind: 'Service', name, controller: true, blockOwnerDeletion: true };
  if (service.metadata.uid) owner.uid = service.metadata.uid;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: sliceName, generateName, namespace, labels, ownerReferences: [owner] },
    addressType,
    endpoints,
    ports: ports.map((p) => {
      const appProtocol = (service.spec.ports ?? []).find((sp) => (sp.name ?? '') === p.name && (sp.protocol ?? 'TCP') === p.protocol)?.appProtocol;
      return appProtocol === undefined ? { ...p } : { ...p, appProtocol };
    }),
  };
}
