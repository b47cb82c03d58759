import { locateField } from '../load/locate.js';
import type { LoadedObject } from '../load/source.js';
import type { Inventory } from '../model/k8s.js';
import type { FieldPath, ObjectReporter } from './reporter.js';

type InventoryKind = 'Service' | 'EndpointSlice' | 'Endpoints' | 'Pod' | 'Node' | 'ServiceCIDR';

const INVENTORY_KINDS = new Set<string>(['Service', 'EndpointSlice', 'Endpoints', 'Pod', 'Node', 'ServiceCIDR']);

interface Identified {
  /** `namespace/name`: the identity within a kind, and the sort key. */
  key: string;
  loaded: LoadedObject;
  r: ObjectReporter;
}

/**
 * Valid objects filed by kind, each kind sorted by `namespace/name` when
 * done, with objects that share an identity reported. The key is built once
 * per object and serves both, and repeats are found next to each other after
 * the sort rather than through a map of every identity (at 100,000 Pods the
 * keys and the map were a third of validation).
 */
export class InventoryBuilder {
  private readonly kinds = new Map<InventoryKind, Identified[]>();

  add(kind: InventoryKind, loaded: LoadedObject, r: ObjectReporter): void {
    const meta = (loaded.value as { metadata: { name: string; namespace?: string } }).metadata;
    let list = this.kinds.get(kind);
    if (!list) this.kinds.set(kind, (list = []));
    list.push({ key: `${meta.namespace ?? ''}/${meta.name}`, loaded, r });
  }

  /** The inventory; objects defined twice are reported to their reporters, so read those after this. */
  finish(): Inventory {
    return {
      services: this.sorted('Service'),
      endpointSlices: this.sorted('EndpointSlice'),
      endpoints: this.sorted('Endpoints'),
      pods: this.sorted('Pod'),
      nodes: this.sorted('Node'),
      serviceCIDRs: this.sorted('ServiceCIDR'),
    };
  }

  /** The values of one kind by `namespace/name` (the caller knows which type that kind's values have). */
  private sorted(kind: InventoryKind): never[] {
    const list = this.kinds.get(kind) ?? [];
    // Stable: copies of one identity stay in input order, so the first is the one defined first.
    list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    reportRepeats(list);
    return list.map((entry) => entry.loaded.value as never);
  }
}

/** Two objects with one identity would make the output depend on input order. */
function reportRepeats(sorted: Identified[]): void {
  for (let i = 1, first = sorted[0]!; i < sorted.length; i++) {
    const entry = sorted[i]!;
    if (entry.key !== first.key) first = entry;
    // Every later copy points at the first one read.
    else entry.r.error(['metadata', 'name'], `is defined twice (first at ${where(first.loaded, ['metadata', 'name'])}); remove one copy`);
  }
}

export function isInventoryKind(kind: string): kind is InventoryKind {
  return INVENTORY_KINDS.has(kind);
}

/** `FILE:LINE` of a field, for messages that point at another object. */
export function where(loaded: LoadedObject, path: FieldPath): string {
  const line = locateField(loaded.origin, path);
  return line === null ? loaded.origin.source.name : `${loaded.origin.source.name}:${line}`;
}
