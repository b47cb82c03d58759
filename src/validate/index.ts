import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { locateField } from '../load/locate.js';
import type { LoadedObject } from '../load/source.js';
import type { EndpointSlice, Endpoints, Inventory, KubeProxyConfiguration, Node, Pod, Service } from '../model/k8s.js';
import { validateEndpointSlice } from './endpoint-slice.js';
import { validateEndpoints } from './endpoints.js';
import { validateKubeProxyConfiguration } from './kube-proxy-config.js';
import { validateNode } from './node.js';
import { validatePod } from './pod.js';
import { ObjectReporter, quoted, type FieldPath } from './reporter.js';
import { checkShape, isKnownKind, type KnownKind, type SchemaProblem } from './schemas.js';
import { validateService } from './service.js';

export interface ValidationResult {
  inventory: Inventory;
  /** KubeProxyConfiguration documents found among the manifests. */
  configs: { value: KubeProxyConfiguration; loaded: LoadedObject }[];
  diagnostics: Diagnostic[];
  /** How many objects were checked (List items count one each). */
  checked: number;
}

type Semantic = (value: never, r: ObjectReporter) => void;

const SEMANTIC: Record<KnownKind, Semantic> = {
  Service: validateService as Semantic,
  EndpointSlice: validateEndpointSlice as Semantic,
  Endpoints: validateEndpoints as Semantic,
  Pod: validatePod as Semantic,
  Node: validateNode as Semantic,
  KubeProxyConfiguration: validateKubeProxyConfiguration as Semantic,
};

/**
 * Checks every object's shape (JSON Schema) and meaning (names, addresses,
 * field combinations), collecting every problem rather than stopping at the
 * first. Objects of kinds kpc does not read are skipped with a warning.
 */
export function validateObjects(objects: LoadedObject[]): ValidationResult {
  const inventory: Inventory = { services: [], endpointSlices: [], endpoints: [], pods: [], nodes: [] };
  const configs: ValidationResult['configs'] = [];
  const diagnostics: Diagnostic[] = [];
  const identities = new Map<string, LoadedObject>();
  for (const loaded of objects) {
    const r = new ObjectReporter(loaded);
    const kind = kindOf(loaded.value, r);
    if (kind !== null) {
      const shape = checkShape(kind, loaded.value);
      for (const problem of shape) r.error(problem.path, problem.message);
      if (shape.length === 0) SEMANTIC[kind](loaded.value as never, r);
      else checkMeaningOfMisshapen(kind, loaded.value, shape, r);
      if (!r.failed) {
        defaultNamespace(loaded.value as { metadata?: { namespace?: string } }, kind);
        checkDuplicate(loaded, kind, identities, r);
        if (kind === 'KubeProxyConfiguration') checkSingleConfig(configs, r);
        file(kind, loaded, inventory, configs);
      }
    }
    diagnostics.push(...r.diagnostics);
  }
  sortInventory(inventory);
  return { inventory, configs, diagnostics, checked: objects.length };
}

/**
 * An object whose shape is wrong is rejected already, but the user should see
 * all its problems in one run rather than a layer per run. The semantic checks
 * assume the schema's shape, so they run on the object as it is, reports on
 * fields the schema flagged are dropped as repeats, and where a malformed
 * field trips a check the remaining checks of this object are given up.
 */
function checkMeaningOfMisshapen(kind: KnownKind, value: unknown, shape: SchemaProblem[], r: ObjectReporter): void {
  try {
    SEMANTIC[kind](value as never, r.ignoring(shape.map((p) => p.path)));
  } catch {
    // A wrongly typed field (a string for a list, a missing mapping) that the schema has reported.
  }
}

function kindOf(value: unknown, r: ObjectReporter): KnownKind | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    r.error([], 'is not a Kubernetes object (expected a mapping with apiVersion, kind and metadata)');
    return null;
  }
  const kind = (value as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || kind === '') {
    r.error(['kind'], 'is required');
    return null;
  }
  if (!isKnownKind(kind)) {
    r.warning(['kind'], `${quoted(kind)} is not a kind kpc reads; skipped`);
    return null;
  }
  return kind;
}

function defaultNamespace(value: { metadata?: { namespace?: string } }, kind: KnownKind): void {
  if (kind === 'Node' || kind === 'KubeProxyConfiguration' || !value.metadata) return;
  if (value.metadata.namespace === undefined || value.metadata.namespace === '') value.metadata.namespace = 'default';
}

function checkDuplicate(loaded: LoadedObject, kind: KnownKind, seen: Map<string, LoadedObject>, r: ObjectReporter): void {
  if (kind === 'KubeProxyConfiguration') return;
  const meta = (loaded.value as { metadata: { name: string; namespace?: string } }).metadata;
  const key = `${kind}/${meta.namespace ?? ''}/${meta.name}`;
  const first = seen.get(key);
  if (first) {
    // Two objects with one identity would make the output depend on input order.
    r.error(['metadata', 'name'], `is defined twice (first at ${where(first, ['metadata', 'name'])}); remove one copy`);
  } else seen.set(key, loaded);
}

/** Two configurations would make the output depend on which one was read first. */
function checkSingleConfig(configs: ValidationResult['configs'], r: ObjectReporter): void {
  const first = configs[0];
  if (first) r.error(['kind'], `is a second KubeProxyConfiguration (first at ${where(first.loaded, ['kind'])}); give kube-proxy's configuration once`);
}

function where(loaded: LoadedObject, path: FieldPath): string {
  const line = locateField(loaded.origin, path);
  return line === null ? loaded.origin.source.name : `${loaded.origin.source.name}:${line}`;
}

function file(kind: KnownKind, loaded: LoadedObject, inventory: Inventory, configs: ValidationResult['configs']): void {
  const value = loaded.value;
  switch (kind) {
    case 'Service': inventory.services.push(value as Service); break;
    case 'EndpointSlice': inventory.endpointSlices.push(value as EndpointSlice); break;
    case 'Endpoints': inventory.endpoints.push(value as Endpoints); break;
    case 'Pod': inventory.pods.push(value as Pod); break;
    case 'Node': inventory.nodes.push(value as Node); break;
    case 'KubeProxyConfiguration': configs.push({ value: value as KubeProxyConfiguration, loaded }); break;
  }
}

function sortInventory(inventory: Inventory): void {
  inventory.services = byIdentity(inventory.services);
  inventory.endpointSlices = byIdentity(inventory.endpointSlices);
  inventory.endpoints = byIdentity(inventory.endpoints);
  inventory.pods = byIdentity(inventory.pods);
  inventory.nodes = byIdentity(inventory.nodes);
}

/**
 * Sorted by `namespace/name`, each key built once rather than twice per
 * comparison (a sort of 100,000 Pods makes millions of comparisons).
 */
function byIdentity<T extends { metadata: { name: string; namespace?: string } }>(items: T[]): T[] {
  const keyed = items.map((item) => ({ key: `${item.metadata.namespace ?? ''}/${item.metadata.name}`, item }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((entry) => entry.item);
}
