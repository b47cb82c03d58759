import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { LoadedObject } from '../load/source.js';
import type { EndpointSlice, Endpoints, Inventory } from '../model/k8s.js';
import { SERVICE_NAME_LABEL } from '../validate/endpoint-slice.js';
import { ObjectReporter, type FieldPath } from '../validate/reporter.js';
import { ByNamespace } from './by-namespace.js';

/**
 * EndpointSlices and Endpoints whose Service is not in the input. kube-proxy
 * keeps such endpoints until their Service arrives; kpc has no Service to
 * compile them into, so they reach no rule. A dump of slices alone (two of
 * them, before and after a failover) would otherwise compile to nothing and
 * compare as the same, in silence.
 */
export interface Orphan {
  object: EndpointSlice | Endpoints;
  kind: 'EndpointSlice' | 'Endpoints';
  /** `namespace/name` of the missing Service. */
  service: string;
  /** The field that names the Service: the slice's label, the Endpoints' own name. */
  field: FieldPath;
}

/** Every orphan, slices first, each kind in inventory order (namespace/name). One pass over each kind, no joined keys. */
export function endpointsWithoutService(inventory: Inventory): Orphan[] {
  const services = new ByNamespace<true>();
  for (const service of inventory.services) services.set(service.metadata.namespace!, service.metadata.name, true);
  const orphans: Orphan[] = [];
  for (const slice of inventory.endpointSlices) {
    const name = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    // A slice without the label is warned about where it is validated.
    if (name && !services.get(slice.metadata.namespace!, name)) {
      orphans.push({ object: slice, kind: 'EndpointSlice', service: `${slice.metadata.namespace}/${name}`, field: ['metadata', 'labels', SERVICE_NAME_LABEL] });
    }
  }
  for (const endpoints of inventory.endpoints) {
    const { namespace, name } = endpoints.metadata;
    if (!services.get(namespace!, name)) orphans.push({ object: endpoints, kind: 'Endpoints', service: `${namespace}/${name}`, field: ['metadata', 'name'] });
  }
  return orphans;
}

/**
 * A warning for each orphan at the line of the field that names its Service.
 * `objects` are every object loaded, the inventory's among them; they are
 * only searched when there is an orphan, so a valid input pays for the set of
 * Service names and nothing more. A Service that is in the input but invalid
 * (reported as an error already) is not missing.
 */
export function orphanWarnings(inventory: Inventory, objects: LoadedObject[]): Diagnostic[] {
  const orphans = endpointsWithoutService(inventory);
  if (!orphans.length) return [];
  const loadedOf = new Map<unknown, LoadedObject>();
  const invalidServices = new Set<string>();
  for (const loaded of objects) {
    loadedOf.set(loaded.value, loaded);
    const identity = serviceIdentity(loaded.value);
    if (identity) invalidServices.add(identity);
  }
  const warnings: Diagnostic[] = [];
  for (const orphan of orphans) {
    const loaded = loadedOf.get(orphan.object);
    if (!loaded || invalidServices.has(orphan.service)) continue;
    const r = new ObjectReporter(loaded, warnings);
    r.warning(orphan.field, `its Service ${orphan.service} is not in the input, so no rule uses its endpoints; give the Service's manifest too`);
  }
  return warnings;
}

/** `namespace/name` of anything that calls itself a Service, valid or not. */
function serviceIdentity(value: unknown): string | null {
  const object = value as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
  if (object?.kind !== 'Service' || typeof object.metadata?.name !== 'string') return null;
  const namespace = typeof object.metadata.namespace === 'string' && object.metadata.namespace ? object.metadata.namespace : 'default';
  return `${namespace}/${object.metadata.name}`;
}
