import type { Pod } from '../model/k8s.js';

/** Pods of one namespace by label key, then by label value. */
type LabelIndex = Map<string, Map<string, Pod[]>>;

/**
 * Pods indexed by namespace and by each `label=value`, so that matching a
 * selector costs the size of its smallest candidate list, not the number of
 * pods: 30,000 Services over 300,000 Pods stays linear. Nested maps rather than
 * one map of joined `namespace/key=value` strings: label keys are property
 * names, whose hashes V8 keeps, so nothing is joined or hashed again per pod.
 */
export class PodIndex {
  private readonly byNamespace = new Map<string, LabelIndex>();
  /** Label-set comparisons made; tests read it to prove matching stays linear. */
  comparisons = 0;

  constructor(pods: Pod[]) {
    for (const pod of pods) {
      const labels = pod.metadata.labels;
      if (!labels) continue;
      const namespace = pod.metadata.namespace ?? 'default';
      let byKey = this.byNamespace.get(namespace);
      if (!byKey) this.byNamespace.set(namespace, (byKey = new Map()));
      for (const key of Object.keys(labels)) {
        const value = labels[key]!;
        let byValue = byKey.get(key);
        if (!byValue) byKey.set(key, (byValue = new Map()));
        let list = byValue.get(value);
        if (!list) byValue.set(value, (list = []));
        list.push(pod);
      }
    }
  }

  /** Pods in `namespace` whose labels include every pair of `selector` (which must not be empty). */
  select(namespace: string, selector: Record<string, string>): Pod[] {
    const byKey = this.byNamespace.get(namespace);
    if (!byKey) return [];
    const pairs = Object.entries(selector);
    let smallest: Pod[] | undefined;
    for (const [key, value] of pairs) {
      const list = byKey.get(key)?.get(value);
      if (!list) return [];
      if (!smallest || list.length < smallest.length) smallest = list;
    }
    return (smallest ?? []).filter((pod) => {
      this.comparisons++;
      return pairs.every(([key, value]) => pod.metadata.labels?.[key] === value);
    });
  }
}
