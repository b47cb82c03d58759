import { isLocal, type NodeFacts, type Origin, type Packet } from './packet.js';
import { ONE } from '../read/fraction.js';
import { chance, mergeOutcomes, traceResult, type Explanation, type Outcome, type TracePath } from './trace.js';
import type { Ended, State } from './walk.js';

/** The netfilter hooks a new connection's first packet can pass. */
export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

/** Runs every table's (or base chain's) rules at one hook, in priority order. */
export interface HookRunner {
  run(hook: Hook, states: State[]): { passed: State[]; ended: Ended[] };
  warnings: string[];
}

/**
 * Walks the packet through the hooks as the kernel does: from a pod or from
 * outside it enters PREROUTING, then INPUT when its (possibly DNATed)
 * destination is the node's own, else FORWARD and POSTROUTING; from the node
 * itself it enters OUTPUT, then POSTROUTING (and INPUT for a local destination).
 */
export function walkHooks(runner: HookRunner, mode: Explanation['mode'], packet: Packet, origin: Origin, node: NodeFacts): Explanation {
  const start: State = { probability: ONE, packet, mark: 0, dnat: null, masquerade: false, service: null, steps: [], reason: null, affinitySeconds: null, affinityRemembered: false };
  const ended: Ended[] = [];
  const finished: { state: State; delivered: 'local' | 'forwarded' }[] = [];
  const run = (hook: Hook, states: State[]) => {
    if (!states.length) return [];
    const result = runner.run(hook, states);
    ended.push(...result.ended.filter((e) => e.verdict !== 'accept'));
    return result.passed;
  };
  const local = (s: State) => isLocal(s.packet.dst, node);
  if (origin === 'node') {
    const out = run('postrouting', run('output', [start]));
    finished.push(...run('input', out.filter(local)).map((state) => ({ state, delivered: 'local' as const })));
    finished.push(...out.filter((s) => !local(s)).map((state) => ({ state, delivered: 'forwarded' as const })));
  } else {
    const routed = run('prerouting', [start]);
    finished.push(...run('input', routed.filter(local)).map((state) => ({ state, delivered: 'local' as const })));
    finished.push(...run('postrouting', run('forward', routed.filter((s) => !local(s)))).map((state) => ({ state, delivered: 'forwarded' as const })));
  }
  const ways = [
    ...finished.map(({ state, delivered }) => ({ state, outcome: delivery(state, delivered) })),
    ...ended.map(({ state, verdict }) => ({ state, outcome: refusal(state, verdict as 'drop' | 'reject') })),
  ];
  const paths: TracePath[] = ways.map(({ state, outcome }) => ({ ...chance(state.probability), steps: state.steps, outcome }));
  const outcomes = mergeOutcomes(ways.map(({ state, outcome }) => ({ outcome, exact: state.probability })));
  const all = [...finished.map((f) => f.state), ...ended.map((e) => e.state)];
  const affinity = all.find((s) => s.affinitySeconds !== null)?.affinitySeconds ?? null;
  return {
    mode,
    packet,
    origin,
    hook: origin === 'node' ? 'OUTPUT' : 'PREROUTING',
    paths,
    outcomes,
    result: traceResult(outcomes),
    affinitySeconds: affinity,
    affinityRemembered: all.some((s) => s.affinityRemembered),
    warnings: [...new Set(runner.warnings)],
  };
}

function delivery(state: State, delivered: 'local' | 'forwarded'): Outcome {
  if (state.dnat) return { kind: 'backend', ...chance(state.probability), service: state.service, endpoint: state.dnat, masquerade: state.masquerade };
  return { kind: 'untouched', ...chance(state.probability), delivered, masquerade: state.masquerade };
}

function refusal(state: State, verdict: 'drop' | 'reject'): Outcome {
  return { kind: verdict, ...chance(state.probability), service: state.service, reason: state.reason ?? `${verdict} by the last rule shown` };
}
