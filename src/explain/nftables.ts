import { basePriority, parseNftText, type NftTableText } from '../read/nft-text.js';
import { applyNftRule } from './nft-rule.js';
import { originOf, type NodeFacts, type Packet } from './packet.js';
import { walkHooks, type Hook, type HookRunner } from './pipeline.js';
import type { Explanation } from './trace.js';
import { runChain, type Ended, type Interpreter, type State } from './walk.js';

/**
 * Traces a packet through nft text (kpc's `nft -f` file or `nft list`
 * output) as the kernel walks it: at each hook, every base chain of the
 * packet's family (ip or ip6, and inet) in priority order; an accept passes
 * the packet to the next base chain, a drop or reject ends it.
 */
export function traceNftables(text: string, packet: Packet, node: NodeFacts): Explanation {
  const tables = parseNftText(text).filter((t) => t.family === (packet.family === 4 ? 'ip' : 'ip6') || t.family === 'inet');
  const runner = new NftHooks(tables, node);
  if (!tables.length) runner.warnings.push(`the rule set has no ${packet.family === 4 ? 'ip' : 'ip6'} or inet table: nothing applies to an IPv${packet.family} packet`);
  return walkHooks(runner, 'nftables', packet, originOf(packet.src, node), node);
}

interface BaseChain {
  table: NftTableText;
  chain: string;
  hook: Hook;
  priority: number;
  policy: 'accept' | 'drop';
}

class NftHooks implements HookRunner {
  readonly warnings: string[] = [];
  private readonly chains: BaseChain[];

  constructor(
    tables: NftTableText[],
    private readonly node: NodeFacts,
  ) {
    // Sort is stable: chains of equal priority keep their order in the text.
    this.chains = tables.flatMap((table) => baseChains(table)).sort((a, b) => a.priority - b.priority);
  }

  run(hook: Hook, states: State[]): { passed: State[]; ended: Ended[] } {
    let passed = states;
    const ended: Ended[] = [];
    for (const base of this.chains.filter((c) => c.hook === hook)) {
      if (!passed.length) break;
      const result = runChain(this.interpreter(base.table), base.chain, passed);
      const fellThrough = base.policy === 'drop' ? [] : result.returned;
      if (base.policy === 'drop') ended.push(...result.returned.map((state) => ({ state: { ...state, reason: `chain ${base.chain} policy drop` }, verdict: 'drop' as const })));
      passed = [...fellThrough, ...result.ended.filter((e) => e.verdict === 'accept').map((e) => e.state)];
      ended.push(...result.ended.filter((e) => e.verdict !== 'accept'));
    }
    return { passed, ended };
  }

  private interpreter(table: NftTableText): Interpreter<string> {
    const warn = (message: string) => this.warnings.push(message);
    return {
      rules: (chain) => table.chains.get(chain),
      apply: (rule, chain, state) => applyNftRule(rule, chain, state, { table, node: this.node, warn }),
      warn,
    };
  }
}

/** `type filter hook input priority -110 ; policy accept ;` for each base chain of a table. */
function baseChains(table: NftTableText): BaseChain[] {
  const chains: BaseChain[] = [];
  for (const [chain, spec] of table.chainSpecs) {
    const hook = /\bhook (prerouting|input|forward|output|postrouting)\b/.exec(spec)?.[1] as Hook | undefined;
    if (!hook) continue;
    chains.push({ table, chain, hook, priority: basePriority(spec), policy: /\bpolicy drop\b/.test(spec) ? 'drop' : 'accept' });
  }
  return chains;
}
