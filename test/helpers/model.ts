import type { RuleSetModel } from '../../src/read/index.js';

/** A model as plain sorted data, shares rounded, for equality checks. */
export function plain(model: RuleSetModel): unknown {
  return [...model.frontends.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, f]) => [key, JSON.parse(JSON.stringify(f, (k, v) => (typeof v === 'number' && k !== 'affinitySeconds' ? Math.round(v * 1e4) / 1e4 : v)))]);
}
