import { isZero, multiply, type Fraction } from '../read/fraction.js';
import { hostPort, type Packet } from './packet.js';
import type { Step } from './trace.js';

/**
 * A chain walker shared by the iptables and nftables tracers: rules in order,
 * jump/goto/return, terminal verdicts, and a split wherever a rule applies
 * only with some probability. Each tracer supplies how one rule applies.
 */

/** One way the packet is going, with everything the rules did to it so far. */
export interface State {
  /** The chance of this way, exactly. */
  probability: Fraction;
  /** The packet's header now (after DNAT). */
  packet: Packet;
  mark: number;
  /** `ip:port` the packet was DNATed to, or null. */
  dnat: string | null;
  masquerade: boolean;
  /** The service port the latest matched rule belonged to; rules without a name of their own inherit it. */
  service: string | null;
  steps: Step[];
  /** Why the packet was dropped or rejected, set by that rule. */
  reason: string | null;
  affinitySeconds: number | null;
  /** An affinity table already held this client (a live nft listing), so it went back to its backend. */
  affinityRemembered: boolean;
}

export type Action =
  | { kind: 'continue' }
  | { kind: 'jump' | 'goto'; chain: string }
  | { kind: 'return' }
  | { kind: 'accept' | 'drop' | 'reject' };

/** One way a rule applies: `action` null means the rule did not match on this branch. */
export interface Branch {
  /** Of the state's probability, exactly; a rule's branches add up to exactly 1. */
  share: Fraction;
  state: State;
  action: Action | null;
}

export interface Interpreter<R> {
  /** The chain's rules, or undefined when there is no such chain. */
  rules(chain: string): R[] | undefined;
  /** Every way `rule` applies to `state`; shares sum to 1. A matching branch's state has its step recorded. */
  apply(rule: R, chain: string, state: State): Branch[];
  warn(message: string): void;
}

export type Verdict = 'accept' | 'drop' | 'reject';

export interface Ended {
  state: State;
  verdict: Verdict;
}

export interface ChainResult {
  /** States that left the chain by falling off its end or by return. */
  returned: State[];
  /** States that met a verdict in this chain or one it called. */
  ended: Ended[];
}

/** Deeper than any rule set kube-proxy or kpc writes; only a loop gets here. */
const MAX_DEPTH = 64;

export function runChain<R>(interpreter: Interpreter<R>, chain: string, states: State[], depth = 0): ChainResult {
  if (depth > MAX_DEPTH) throw new Error(`chain ${chain}: calls nest deeper than ${MAX_DEPTH}; the rule set loops`);
  const rules = interpreter.rules(chain);
  if (!rules) {
    interpreter.warn(`chain ${chain} is jumped to but not defined; treated as empty`);
    return { returned: states, ended: [] };
  }
  const result: ChainResult = { returned: [], ended: [] };
  let live = states;
  for (const rule of rules) {
    const next: State[] = [];
    for (const state of live) {
      for (const branch of interpreter.apply(rule, chain, state)) {
        const branched = { ...branch.state, probability: multiply(state.probability, branch.share) };
        if (isZero(branched.probability)) continue;
        if (!branch.action) next.push(branched);
        else follow(interpreter, branch.action, branched, depth, next, result);
      }
    }
    live = next;
    if (!live.length) break;
  }
  result.returned.push(...live);
  return result;
}

function follow<R>(interpreter: Interpreter<R>, action: Action, state: State, depth: number, next: State[], result: ChainResult): void {
  switch (action.kind) {
    case 'continue':
      next.push(state);
      return;
    case 'return':
      result.returned.push(state);
      return;
    case 'jump': {
      const called = runChain(interpreter, action.chain, [state], depth + 1);
      next.push(...called.returned);
      result.ended.push(...called.ended);
      return;
    }
    case 'goto': {
      // A goto does not come back here: where the called chain ends, this one has ended too.
      const called = runChain(interpreter, action.chain, [state], depth + 1);
      result.returned.push(...called.returned);
      result.ended.push(...called.ended);
      return;
    }
    default:
      result.ended.push({ state, verdict: action.kind });
  }
}

/** A state with one more matched rule; later rules without a service name of their own inherit this one's. */
export function withStep(state: State, step: Step): State {
  return { ...state, steps: [...state.steps, step], service: step.service ?? state.service };
}

/** The state after DNAT to `10.244.1.2:80` or `[fd00::2]:80`; a target without a port keeps the packet's. */
export function translated(state: State, target: string): State {
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(target) ?? /^([0-9.]+)(?::(\d+))?$/.exec(target);
  const dst = match ? match[1]! : target;
  const dport = match?.[2] ? Number(match[2]) : state.packet.dport;
  return { ...state, packet: { ...state.packet, dst, dport }, dnat: hostPort(dst, dport) };
}
