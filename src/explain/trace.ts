import { add, formatFraction, toNumber, type Fraction } from '../read/fraction.js';
import type { Origin, Packet } from './packet.js';

/**
 * What a trace reports. A packet can take several ways through the rules
 * (each `statistic`/`numgen` rule splits it by probability), so a trace is a
 * list of paths, each with the rules it matched, in order, and where it ended.
 */

export interface Step {
  /** iptables table (nat, filter) or nftables `family table`. */
  table: string;
  chain: string;
  /** The rule as written in the rule set. */
  rule: string;
  /** The service port the rule belongs to, from its comment or chain name; null for shared plumbing. */
  service: string | null;
  /** How the rule applied when that is not plain: a probability, a map element. */
  note?: string;
}

/**
 * Where a way ends. `probability` is its chance as a number (nine decimals,
 * for reading and sorting); `share` is the same chance exactly, as a fraction
 * (`1/6`, `1`), so six ways of 1/6 are seen to add up to 1.
 */
export type Outcome =
  | { kind: 'backend'; probability: number; share: string; service: string | null; endpoint: string; masquerade: boolean }
  | { kind: 'reject' | 'drop'; probability: number; share: string; service: string | null; reason: string }
  /** No rule translated the packet: it goes on as addressed (to the node itself or forwarded). */
  | { kind: 'untouched'; probability: number; share: string; delivered: 'local' | 'forwarded'; masquerade: boolean };

export interface TracePath {
  probability: number;
  /** The exact chance of this way, as a fraction. */
  share: string;
  steps: Step[];
  outcome: Outcome;
}

/**
 * What the ways come to, for a script (kpc explain's exit status):
 * 'backend' when every way reaches a backend, 'refused' when some way is
 * rejected or dropped, else 'untranslated' (some way meets no rule that
 * translates it: not a service address and port on this node).
 */
export type TraceResult = 'backend' | 'refused' | 'untranslated';

export interface Explanation {
  mode: 'iptables' | 'nftables';
  packet: Packet;
  origin: Origin;
  /** The first hook the packet meets: PREROUTING from a pod or outside, OUTPUT from the node. */
  hook: 'PREROUTING' | 'OUTPUT';
  paths: TracePath[];
  /** The paths' outcomes merged: one entry per distinct result, probabilities summed. */
  outcomes: Outcome[];
  result: TraceResult;
  /** ClientIP affinity seconds when a rule on the way checks it, else null. */
  affinitySeconds: number | null;
  /** The rule set's affinity table already holds this client (only a live nft listing can say so). */
  affinityRemembered: boolean;
  /** Rule parts the tracer could not evaluate (treated as not matching). */
  warnings: string[];
}

/** Merges ways that end the same way, keeping the first one's order; their exact chances are summed. */
export function mergeOutcomes(ways: { outcome: Outcome; exact: Fraction }[]): Outcome[] {
  const merged = new Map<string, { outcome: Outcome; exact: Fraction }>();
  for (const { outcome, exact } of ways) {
    const key = JSON.stringify({ ...outcome, probability: 0, share: '' });
    const seen = merged.get(key);
    if (seen) seen.exact = add(seen.exact, exact);
    else merged.set(key, { outcome, exact });
  }
  return [...merged.values()].map(({ outcome, exact }) => ({ ...outcome, ...chance(exact) }));
}

/** A chance as outcomes and paths carry it: a rounded number and the exact fraction. */
export function chance(exact: Fraction): { probability: number; share: string } {
  return { probability: Math.round(toNumber(exact) * 1e9) / 1e9, share: formatFraction(exact) };
}

export function traceResult(outcomes: Outcome[]): TraceResult {
  if (outcomes.some((o) => o.kind === 'reject' || o.kind === 'drop')) return 'refused';
  return outcomes.every((o) => o.kind === 'backend') ? 'backend' : 'untranslated';
}
