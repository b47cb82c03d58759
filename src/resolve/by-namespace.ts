/**
 * Values filed by namespace, then by a name within it. Nested maps rather
 * than one map of joined `namespace/name` keys: a joined key is a new string
 * per object, copied again to be hashed, while a namespace or name read from
 * the manifests is hashed once and V8 keeps the hash with the string.
 */
export class ByNamespace<T> {
  private readonly namespaces = new Map<string, Map<string, T>>();

  get(namespace: string, name: string): T | undefined {
    return this.namespaces.get(namespace)?.get(name);
  }

  set(namespace: string, name: string, value: T): void {
    this.names(namespace).set(name, value);
  }

  /** The value under `namespace`, `name`, made by `make` the first time it is asked for. */
  getOrAdd(namespace: string, name: string, make: () => T): T {
    const names = this.names(namespace);
    let value = names.get(name);
    if (value === undefined) names.set(name, (value = make()));
    return value;
  }

  private names(namespace: string): Map<string, T> {
    let names = this.namespaces.get(namespace);
    if (!names) this.namespaces.set(namespace, (names = new Map()));
    return names;
  }
}
