import { locateField } from '../load/locate.js';
import type { LoadedObject } from '../load/source.js';
import type { Inventory } from '../model/k8s.js';
import type { FieldPath, ObjectReporter } from './reporter.js';

type InventoryKind = 'Service' | 'EndpointSlice' | 'Endpoints' | 'Pod' | 'Node';

const INVENTORY_KINDS = new Set<string>(['Service', 'EndpointSlice', 'Endpoints', 'Pod', 'Node']);

interface Identified {
  /** `namespace/name`: the identity within a kind, and the sort key. */
  key: string;
  loaded: LoadedObject;
}

/**
 * Valid objects filed by kind, each kind sorted by `namespace/name` when
 * done, with objects that share an identity reported. The key is built once
 * per object and serves both (at 100,000 Pods, building it for the check, the
 * sort and each comparison was a quarter of validation).
 */
export class InventoryBuilder {
  private readonly kinds = new Map<InventoryKind, { list: Identified[]; byKey: Map<string, LoadedObject> }>();

  add(kind: InventoryKind, loaded: LoadedObject, r: ObjectReporter): void {
    const meta = (loaded.value as { metadata: { name: string; namespace?: string } }).metadata;
    const key = `${meta.namespace ?? ''}/${meta.name}`;
    let filed = this.kinds.get(kind);
    if (!filed) this.kinds.set(kind, (filed = { list: [], byKey: new Map() }));
    const first = filed.byKey.get(key);
    if (first) {
      // Two objects with one identity would make the output depend on input order.
      r.error(['metadata', 'name'], `is defined twice (first at ${where(first, ['metadata', 'name'])}); remove one copy`);
    } else filed.byKey.set(key, loaded);
    filed.list.push({ key, loaded });
  }

  finish(): Inventory {
    return {
      services: this.sorted('Service'),
      endpointSlices: this.sorted('EndpointSlice'),
      endpoints: this.sorted('Endpoints'),
      pods: this.sorted('Pod'),
      nodes: this.sorted('Node'),
    };
  }

  /** The values of one kind by `namespace/name` (the caller knows which type that kind's values have). */
  private sorted(kind: InventoryKind): never[] {
    const list = this.kinds.get(kind)?.list ?? [];
    list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return list.map((entry) => entry.loaded.value as never);
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
