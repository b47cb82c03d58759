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

export type Outcome =
  | { kind: 'backend'; probability: number; service: string | null; endpoint: string; masquerade: boolean }
  | { kind: 'reject' | 'drop'; probability: number; service: string | null; reason: string }
  /** No rule translated the packet: it goes on as addressed (to the node itself or forwarded). */
  | { kind: 'untouched'; probability: number; delivered: 'local' | 'forwarded'; masquerade: boolean };

export interface TracePath {
  probability: number;
  steps: Step[];
  outcome: Outcome;
}

export interface Explanation {
  mode: 'iptables' | 'nftables';
  packet: Packet;
  origin: Origin;
  /** The first hook the packet meets: PREROUTING from a pod or outside, OUTPUT from the node. */
  hook: 'PREROUTING' | 'OUTPUT';
  paths: TracePath[];
  /** The paths' outcomes merged: one entry per distinct result, probabilities summed. */
  outcomes: Outcome[];
  /** ClientIP affinity seconds when a rule on the way checks it, else null. */
  affinitySeconds: number | null;
  /** The rule set's affinity table already holds this client (only a live nft listing can say so). */
  affinityRemembered: boolean;
  /** Rule parts the tracer could not evaluate (treated as not matching). */
  warnings: string[];
}

/** Merges paths that end the same way, keeping the first path's order. */
export function mergeOutcomes(paths: TracePath[]): Outcome[] {
  const merged = new Map<string, Outcome>();
  for (const { outcome } of paths) {
    const key = JSON.stringify({ ...outcome, probability: 0 });
    const seen = merged.get(key);
    if (seen) seen.probability = roundProbability(seen.probability + outcome.probability);
    else merged.set(key, { ...outcome });
  }
  return [...merged.values()];
}

/**
 * iptables writes probabilities with ten decimals (0.3333333333), so products
 * of them carry float noise; nine places keep every real difference.
 */
export function roundProbability(p: number): number {
  return Math.round(p * 1e9) / 1e9;
}
