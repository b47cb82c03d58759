import type { Explanation, Outcome, Step, TracePath } from './trace.js';

/** The explanation as people read it: the packet, the rules it matched in order, then where it can end. */
export function formatExplanation(e: Explanation): string {
  const lines = [...header(e), '', 'matched rules, in order:', ...rules(e.paths), '', 'outcome:', ...outcomes(e)];
  if (e.warnings.length) lines.push('', 'warnings:', ...e.warnings.map((w) => `  ${w}`));
  return `${lines.join('\n')}\n`;
}

export function formatExplanationJson(e: Explanation): string {
  return `${JSON.stringify(e, null, 2)}\n`;
}

const ENTRY = { node: 'OUTPUT: the packet comes from the node itself', pod: 'PREROUTING: the packet comes from a pod', outside: 'PREROUTING: the packet comes from outside the cluster' };

function header(e: Explanation): string[] {
  const p = e.packet;
  const destination = p.family === 6 ? `[${p.dst}]:${p.dport}` : `${p.dst}:${p.dport}`;
  const tables = e.mode === 'iptables' ? 'iptables (nat, then filter, as each hook runs them)' : 'nftables (base chains in priority order at each hook)';
  return [`packet: ${p.src} -> ${destination}/${p.protocol} (IPv${p.family}), first packet of a new connection`, `enters: ${ENTRY[e.origin]}`, `rules:  ${tables}`];
}

/** Steps every way shares, once; then each way's own steps under its probability; then the steps all ways end with. */
function rules(paths: TracePath[]): string[] {
  if (!paths.length) return ['  (none)'];
  const lists = paths.map((p) => p.steps);
  const head = commonPrefix(lists);
  if (paths.length === 1) return head.length ? head.flatMap((step) => stepLines(step, '  ')) : ['  (none: no rule applies to this packet)'];
  const middles = lists.map((list) => list.slice(head.length));
  const tail = commonPrefix(middles.map((list) => [...list].reverse())).reverse();
  const lines = head.flatMap((step) => stepLines(step, '  '));
  lines.push(`  then one of ${paths.length} ways:`);
  paths.forEach((path, index) => {
    const own = middles[index]!.slice(0, middles[index]!.length - tail.length);
    lines.push(`  way ${index + 1} (${path.share}, ${percent(path.probability)}): ${short(path.outcome)}`);
    lines.push(...(own.length ? own.flatMap((step) => stepLines(step, '    ')) : ['    (no rule of its own)']));
  });
  if (tail.length) lines.push('  then, on every way:', ...tail.flatMap((step) => stepLines(step, '  ')));
  return lines;
}

function stepLines(step: Step, indent: string): string[] {
  const service = step.service ? ` [${step.service}]` : '';
  const note = step.note ? ` (${step.note})` : '';
  return [`${indent}${step.table} ${step.chain}${service}${note}`, `${indent}  ${step.rule}`];
}

function commonPrefix(lists: Step[][]): Step[] {
  const [first, ...rest] = lists;
  if (!first) return [];
  let n = 0;
  while (n < first.length && rest.every((list) => n < list.length && JSON.stringify(list[n]) === JSON.stringify(first[n]))) n++;
  return first.slice(0, n);
}

function outcomes(e: Explanation): string[] {
  const lines = e.outcomes.map((o) => `  ${percent(o.probability).padStart(7)}  ${long(o, e)}`);
  if (e.affinitySeconds !== null && e.affinityRemembered) {
    lines.push(`  ClientIP affinity (${e.affinitySeconds} s): the rule set remembers ${e.packet.src}, so it goes back to the backend it had`);
  } else if (e.affinitySeconds !== null) {
    lines.push(`  ClientIP affinity (${e.affinitySeconds} s): traced as a client the rules do not remember yet; its later connections go to the backend this one gets, until ${e.affinitySeconds} s pass without one`);
  }
  return lines;
}

function short(o: Outcome): string {
  switch (o.kind) {
    case 'backend':
      return `to ${o.endpoint}${o.masquerade ? ', masqueraded' : ''}`;
    case 'untouched':
      return o.delivered === 'local' ? 'delivered to the node' : 'forwarded unchanged';
    default:
      return o.kind.toUpperCase();
  }
}

function long(o: Outcome, e: Explanation): string {
  const service = 'service' in o && o.service ? ` ${o.service}:` : '';
  switch (o.kind) {
    case 'backend':
      return `backend ${o.endpoint}${service ? ` (${o.service})` : ''}, ${o.masquerade ? "masqueraded: the backend sees the node's address" : `not masqueraded: the backend sees ${e.packet.src}`}`;
    case 'untouched': {
      const where = o.delivered === 'local' ? 'delivered to the node itself' : `forwarded to ${e.packet.dst} unchanged`;
      return `no rule translates this destination: ${where} (not a service address and port on this node?)`;
    }
    default:
      return `${o.kind.toUpperCase()}${service} ${o.reason}`;
  }
}

function percent(p: number): string {
  const value = Math.round(p * 10000) / 100;
  return `${value}%`;
}
