import { ONE } from '../read/fraction.js';
import { Cursor, type NftRuleContext } from './nft-cursor.js';
import { compare, lookupVerdict, selectors, type VerdictHit } from './nft-match.js';
import { dnatByMap, dnatNumgen, numgen, statementAt, verdictOf } from './nft-statement.js';
import { tokenize } from './nft-values.js';
import { chainService, nftRefusalReason } from './reasons.js';
import type { Step } from './trace.js';
import { withStep, type Branch, type State } from './walk.js';

export type { NftRuleContext } from './nft-cursor.js';

/**
 * How one nftables rule applies to a packet: its matches left to right (any
 * false one ends the rule), then its statements. Covers what kube-proxy's
 * and kpc's tables use: address, protocol and port matches, concatenated map
 * lookups (vmap), named and anonymous sets, fib type, ct state, marks,
 * `numgen random` splits, dnat, masquerade and the verdicts.
 */
export function applyNftRule(rule: string, chain: string, state: State, context: NftRuleContext): Branch[] {
  const cursor = new Cursor(tokenize(rule));
  const step = (s: State, service: string | null, note?: string): State => withStep(s, stepOf(rule, chain, context, service, note));
  const own = chainService(chain);
  let current = state;
  const unmatched = (): Branch[] => [{ share: ONE, state: current, action: null }];
  while (!cursor.done()) {
    if (cursor.peek() === 'dnat') {
      // The compact layout's named DNAT maps (`map @dnat-...`); kube-proxy's 2026 layout writes its map inline.
      if (cursor.tokens.some((token) => token.startsWith('@'))) return dnatByMap(cursor, current, chain, context, (s, note) => step(s, own, note));
      const branches = dnatNumgen(cursor, current, chain, context, (s, note) => step(s, own, note));
      if (branches) return branches;
    }
    const statement = statementAt(cursor, current, chain, context);
    if (statement?.kind === 'effect') {
      current = statement.state;
      continue;
    }
    if (statement) return [{ share: ONE, state: step(statement.state, own), action: statement.action }];
    if (cursor.peek() === 'numgen') return numgen(cursor, current, chain, context, (s, note) => step(s, own, note));
    const fields = selectors(cursor, context);
    if (!fields) {
      context.warn(`${chain}: cannot evaluate ${JSON.stringify(cursor.tokens.slice(cursor.at).join(' '))} (rule treated as not matching): ${rule}`);
      return unmatched();
    }
    if (cursor.peek() === 'vmap') {
      cursor.next();
      const hit = lookupVerdict(cursor, fields, current, context);
      return hit ? [viaMap(hit, chain, current, own, step)] : unmatched();
    }
    const outcome = compare(cursor, fields, current, context);
    if (outcome === null) {
      context.warn(`${chain}: cannot evaluate a comparison (rule treated as not matching): ${rule}`);
      return unmatched();
    }
    current = outcome.state;
    if (!outcome.matches) return unmatched();
  }
  // Matches only (or only non-deciding statements): the rule applied and the packet goes on.
  return [{ share: ONE, state: step(current, own), action: { kind: 'continue' } }];
}

/**
 * A verdict-map element the packet selected. The service is named by the
 * chain it leads to or the element's comment; a no-endpoint map's element
 * (drop, or goto reject-chain) carries the reason for the refusal to come.
 */
function viaMap(hit: VerdictHit, chain: string, state: State, own: string | null, step: (s: State, service: string | null, note?: string) => State): Branch {
  const action = verdictOf(hit.verdict);
  const refusal = action.kind === 'drop' || action.kind === 'reject' || hit.target === 'reject-chain';
  const reason = refusal ? nftRefusalReason(chain, hit.map, action.kind === 'drop' ? 'drop' : 'reject') : state.reason;
  const service = chainService(hit.target ?? '') ?? hit.comment ?? own;
  return { share: ONE, state: step({ ...state, reason }, service, `${hit.map ? `@${hit.map} ` : ''}element ${hit.element}`), action };
}

function stepOf(rule: string, chain: string, context: NftRuleContext, service: string | null, note: string | undefined): Step {
  return { table: `${context.table.family} ${context.table.name}`, chain, rule, service, ...(note ? { note } : {}) };
}
