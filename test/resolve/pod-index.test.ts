import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/model/k8s.js';
import { PodIndex } from '../../src/resolve/pod-index.js';

function pods(services: number, perService: number): Pod[] {
  const list: Pod[] = [];
  for (let s = 0; s < services; s++) {
    for (let p = 0; p < perService; p++) {
      list.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${s}-${p}`, namespace: 'default', labels: { app: `app-${s}`, tier: 'web' } } });
    }
  }
  return list;
}

/** A counter, not a clock: matching selectors must cost the matches, not services × pods. */
describe('PodIndex', () => {
  it('compares each service only with the pods of its smallest label list', () => {
    for (const services of [100, 1000]) {
      const index = new PodIndex(pods(services, 10));
      for (let s = 0; s < services; s++) {
        // `tier: web` matches every pod; `app` narrows it to ten.
        expect(index.select('default', { tier: 'web', app: `app-${s}` })).toHaveLength(10);
      }
      expect(index.comparisons).toBe(services * 10);
    }
  });

  it('finds nothing, without comparing, for a label no pod has or another namespace', () => {
    const index = new PodIndex(pods(10, 10));
    expect(index.select('default', { app: 'missing' })).toEqual([]);
    expect(index.select('other', { app: 'app-1' })).toEqual([]);
    expect(index.comparisons).toBe(0);
  });
});
