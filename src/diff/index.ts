import { readRuleSet } from '../read/index.js';
import { diffModels, type DiffReport } from './diff.js';

export { diffModels, type Change, type DiffReport } from './diff.js';

/** Compares two rule-set texts (any format kpc reads) by meaning. */
export function diffRuleSets(aText: string, bText: string): DiffReport {
  return diffModels(readRuleSet(aText), readRuleSet(bText));
}
