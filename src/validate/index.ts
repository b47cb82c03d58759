import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { LoadedObject } from '../load/source.js';
import type { Inventory, KubeProxyConfiguration, Workload } from '../model/k8s.js';
import { validateEndpointSlice } from './endpoint-slice.js';
import { validateEndpoints } from './endpoints.js';
import { validateKubeProxyConfiguration } from './kube-proxy-config.js';
import { validateNode } from './node.js';
import { validatePod } from './pod.js';
import { InventoryBuilder, isInventoryKind, where } from './inventory.js';
import { ObjectReporter, quoted, type FieldPath } from './reporter.js';
import { checkShape, isKnownKind, type KnownKind, type SchemaProblem } from './schemas.js';
import { validateService } from './service.js';
import { validateServiceCIDR } from './service-cidr.js';
import { isWorkload, validateWorkload } from './workload.js';

export interface ValidateOptions {
  /** The namespace of objects that name none, as `kubectl apply -n` gives them (default `default`). */
  namespace?: string;
  /** --simulate: read Deployments, ReplicaSets, StatefulSets, DaemonSets and ReplicationControllers too. */
  workloads?: boolean;
}

export interface ValidationResult {
  inventory: Inventory;
  /** KubeProxyConfiguration documents found among the manifests. */
  configs: { value: KubeProxyConfiguration; loaded: LoadedObject }[];
  diagnostics: Diagnostic[];
  /** How many objects were checked (List items count one each). */
  checked: number;
  /** The workloads, valid, in input order (only with `workloads`). */
  workloads: Workload[];
}

type Semantic = (value: never, r: ObjectReporter) => void;

const SEMANTIC: Record<KnownKind, Semantic> = {
  Service: validateService as Semantic,
  EndpointSlice: validateEndpointSlice as Semantic,
  Endpoints: validateEndpoints as Semantic,
  Pod: validatePod as Semantic,
  Node: validateNode as Semantic,
  ServiceCIDR: validateServiceCIDR as Semantic,
  KubeProxyConfiguration: validateKubeProxyConfiguration as Semantic,
};

/**
 * Checks every object's shape (JSON Schema) and meaning (names, addresses,
 * field combinations), collecting every problem rather than stopping at the
 * first. Objects of kinds kpc does not read are skipped with a warning.
 */
export function validateObjects(objects: LoadedObject[], options: ValidateOptions = {}): ValidationResult {
  const namespace = options.namespace ?? 'default';
  const inventory = new InventoryBuilder();
  const configs: ValidationResult['configs'] = [];
  const reporters: ObjectReporter[] = [];
  const workloads: Workload[] = [];
  for (const loaded of objects) {
    const r = new ObjectReporter(loaded, [], undefined, undefined, namespace);
    reporters.push(r);
    if (options.workloads && readWorkload(loaded, r, namespace)) {
      if (!r.failed) workloads.push(loaded.value as Workload);
      continue;
    }
    const kind = kindOf(loaded.value, r);
    if (kind !== null) {
      const shape = checkShape(kind, loaded.value);
      for (const problem of shape) r.error(problem.path, problem.message);
      if (shape.length === 0) SEMANTIC[kind](loaded.value as never, r);
      else checkMeaningOfMisshapen(kind, loaded.value, shape, r);
      if (!r.failed) {
        defaultNamespace(loaded.value as { metadata?: { namespace?: string } }, kind, namespace);
        if (isInventoryKind(kind)) inventory.add(kind, loaded, r);
        else {
          checkSingleConfig(configs, r);
          configs.push({ value: loaded.value as KubeProxyConfiguration, loaded });
        }
      }
    }
  }
  const filed = inventory.finish();
  // In input order, each object's problems together, now that repeats are known too.
  const diagnostics: Diagnostic[] = [];
  for (const r of reporters) for (const d of r.diagnostics) diagnostics.push(d);
  return { inventory: filed, configs, diagnostics, checked: objects.length, workloads };
}

/** With --simulate, a workload is checked for what the simulation reads; false when the object is no workload. */
function readWorkload(loaded: LoadedObject, r: ObjectReporter, namespace: string): boolean {
  const value = loaded.value as { kind?: unknown; metadata?: { namespace?: string } } | null;
  if (typeof value !== 'object' || value === null || typeof value.kind !== 'string' || !isWorkload(value.kind, value)) return false;
  validateWorkload(loaded, r);
  if (!r.failed && value.metadata && !value.metadata.namespace) value.metadata.namespace = namespace;
  return true;
}

/**
 * An object whose shape is wrong is rejected already, but the user should see
 * all its problems in one run rather than a layer per run. The semantic
 * checks assume the schema's shape, so they run on a copy without the fields
 * the schema rejected: never on those (a selector value that is a list of
 * millions is not turned into one string to test it as a label), reports on
 * them are dropped as repeats, and where a malformed field still trips a
 * check the remaining checks of this object are given up.
 */
function checkMeaningOfMisshapen(kind: KnownKind, value: unknown, shape: SchemaProblem[], r: ObjectReporter): void {
  const rejected = shape.map((p) => p.path);
  try {
    SEMANTIC[kind](withoutFields(value, rejected) as never, r.ignoring(rejected));
  } catch {
    // A wrongly typed field (a string for a list, a missing mapping) that the schema has reported.
  }
}

interface FieldTree {
  /** The field itself is rejected: leave it out. */
  rejected: boolean;
  inside: Map<string | number, FieldTree>;
}

/**
 * A copy of `value` without the given fields, sharing everything off their
 * paths. A list keeps its length (a rejected item becomes undefined), so the
 * paths of the other items, and of what is reported on them, stay the same.
 */
function withoutFields(value: unknown, paths: FieldPath[]): unknown {
  const root: FieldTree = { rejected: false, inside: new Map() };
  for (const path of paths) {
    let tree = root;
    for (const part of path) {
      let next = tree.inside.get(part);
      if (!next) tree.inside.set(part, (next = { rejected: false, inside: new Map() }));
      tree = next;
    }
    tree.rejected = true;
  }
  return root.rejected ? undefined : copyWithout(value, root);
}

function copyWithout(value: unknown, tree: FieldTree): unknown {
  if (typeof value !== 'object' || value === null || tree.inside.size === 0) return value;
  const copy = (Array.isArray(value) ? [...value] : { ...value }) as Record<string | number, unknown>;
  for (const [part, inside] of tree.inside) {
    if (!Object.prototype.hasOwnProperty.call(value, part)) continue;
    const kept = inside.rejected ? undefined : copyWithout((value as Record<string | number, unknown>)[part], inside);
    if (kept === undefined && !Array.isArray(value)) delete copy[part];
    // defineProperty, not assignment: a field named __proto__ must stay a field.
    else Object.defineProperty(copy, part, { value: kept, enumerable: true, writable: true, configurable: true });
  }
  return copy;
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
    r.lazyWarning(['kind'], `${quoted(kind)}${UNREAD_KIND}`);
    return null;
  }
  return kind;
}

/** The end of the warning for an object of a kind kpc does not read (the CLI sums these up by kind). */
export const UNREAD_KIND = ' is not a kind kpc reads; skipped';

const CLUSTER_SCOPED = new Set<KnownKind>(['Node', 'ServiceCIDR', 'KubeProxyConfiguration']);

function defaultNamespace(value: { metadata?: { namespace?: string } }, kind: KnownKind, namespace: string): void {
  if (CLUSTER_SCOPED.has(kind) || !value.metadata) return;
  if (value.metadata.namespace === undefined || value.metadata.namespace === '') value.metadata.namespace = namespace;
}

/** Two configurations would make the output depend on which one was read first. */
function checkSingleConfig(configs: ValidationResult['configs'], r: ObjectReporter): void {
  const first = configs[0];
  if (first) r.error(['kind'], `is a second KubeProxyConfiguration (first at ${where(first.loaded, ['kind'])}); give kube-proxy's configuration once`);
}
