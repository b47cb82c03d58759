import type { Inventory, Service } from '../model/k8s.js';
import { SERVICE_NAME_LABEL } from '../validate/endpoint-slice.js';
import { endpointsFromEndpoints } from './from-endpoints.js';
import { endpointsFromPods } from './from-pods.js';
import { endpointsFromSlices } from './from-slices.js';
import { ByNamespace } from './by-namespace.js';
import { hasPodEndpoints } from '../model/pod-endpoints.js';
import { PodIndex } from './pod-index.js';
import type { EndpointSlice, Endpoints } from '../model/k8s.js';
import type { ServiceEndpoints } from './types.js';

export type { ServiceEndpoints } from './types.js';

const ZONE_LABEL = 'topology.kubernetes.io/zone';

/**
 * Finds each Service's endpoints: its EndpointSlices first, then its v1
 * Endpoints, then Pods matched by its selector (not for ExternalName
 * Services, which the EndpointSlice controller skips; `kpc simulate` writes
 * slices for exactly the Services that reach the Pods here). This is the only
 * place that knows there are three sources.
 */
export function resolveEndpoints(inventory: Inventory, localNode: string): Map<Service, ServiceEndpoints> {
  const slices = slicesByService(inventory.endpointSlices);
  const endpoints = new ByNamespace<Endpoints>();
  for (const e of inventory.endpoints) endpoints.set(e.metadata.namespace!, e.metadata.name, e);
  const nodeZones = new Map<string, string>();
  for (const node of inventory.nodes) {
    const zone = node.metadata.labels?.[ZONE_LABEL];
    if (zone) nodeZones.set(node.metadata.name, zone);
  }
  let pods: PodIndex | null = null;
  const result = new Map<Service, ServiceEndpoints>();
  for (const service of inventory.services) {
    const { namespace, name } = service.metadata;
    const ownSlices = slices.get(namespace!, name);
    const own = endpoints.get(namespace!, name);
    if (ownSlices) result.set(service, endpointsFromSlices(ownSlices, localNode));
    else if (own) result.set(service, endpointsFromEndpoints(own, localNode));
    else if (inventory.pods.length > 0 && hasPodEndpoints(service)) {
      pods ??= new PodIndex(inventory.pods);
      result.set(service, endpointsFromPods(service, pods.select(namespace!, service.spec.selector!), { localNode, nodeZones }));
    } else result.set(service, { source: 'none', byPort: new Map(), subsets: [] });
  }
  return result;
}

/** EndpointSlices by the namespace and name of the Service their label names, in inventory order. */
function slicesByService(all: EndpointSlice[]): ByNamespace<EndpointSlice[]> {
  const slices = new ByNamespace<EndpointSlice[]>();
  for (const slice of all) {
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (service) slices.getOrAdd(slice.metadata.namespace!, service, () => []).push(slice);
  }
  return slices;
}
