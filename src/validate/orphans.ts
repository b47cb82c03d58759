import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { LoadedObject } from '../load/source.js';
import type { Inventory } from '../model/k8s.js';
import { SERVICE_NAME_LABEL } from './endpoint-slice.js';
import { ObjectReporter } from './reporter.js';

/**
 * EndpointSlices and Endpoints whose Service is not in the input: kpc never
 * uses them, which is worth a warning (a Service left out of the input, or a
 * name misspelt). Objects are looked up by value only when there is one to
 * report, so a clean input pays for one set of Service names.
 */
export function orphanEndpoints(inventory: Inventory, objects: LoadedObject[], namespace: string): Diagnostic[] {
  const services = new Set(inventory.services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
  const orphans: { value: object; path: (string | number)[]; service: string }[] = [];
  for (const slice of inventory.endpointSlices) {
    const name = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    const key = `${slice.metadata.namespace}/${name}`;
    if (name !== undefined && !services.has(key)) orphans.push({ value: slice, path: ['metadata', 'labels', SERVICE_NAME_LABEL], service: key });
  }
  for (const endpoints of inventory.endpoints) {
    const key = `${endpoints.metadata.namespace}/${endpoints.metadata.name}`;
    if (!services.has(key)) orphans.push({ value: endpoints, path: ['metadata', 'name'], service: key });
  }
  if (orphans.length === 0) return [];
  const origins = new Map<unknown, LoadedObject>();
  for (const loaded of objects) origins.set(loaded.value, loaded);
  const diagnostics: Diagnostic[] = [];
  for (const orphan of orphans) {
    const loaded = origins.get(orphan.value);
    if (!loaded) continue;
    new ObjectReporter(loaded, diagnostics, undefined, undefined, namespace).warning(orphan.path, `Service ${orphan.service} is not in the input, so no rules use these endpoints; add the Service or leave this object out`);
  }
  return diagnostics;
}
