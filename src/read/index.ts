import { readIpvs } from './ipvs.js';
import { readIptables } from './iptables.js';
import type { RuleSetModel } from './model.js';
import { readNftables } from './nftables.js';

export type { Frontend, RuleSetModel } from './model.js';

export type RuleFormat = 'iptables' | 'nftables' | 'ipvs';

/** Tells the three rule formats apart by their first meaningful lines. */
export function detectFormat(text: string): RuleFormat | null {
  if (/^### BEGIN (ipvsadm|ipset|kube-ipvs0)/m.test(text) || /^-A -(t|u) |^-A --(tcp|udp|sctp)-service /m.test(text)) return 'ipvs';
  if (/^\*(nat|filter|mangle|raw)\s*$/m.test(text)) return 'iptables';
  if (/^\s*(add |flush |delete )?table (ip|ip6|inet|arp|bridge|netdev) /m.test(text) || /^add (rule|chain|element|set|map) /m.test(text)) return 'nftables';
  return null;
}

/** Reads any of the three formats into the model the differ compares. */
export function readRuleSet(text: string, format: RuleFormat | null = detectFormat(text)): RuleSetModel {
  switch (format) {
    case 'iptables':
      return readIptables(text);
    case 'nftables':
      return readNftables(text);
    case 'ipvs':
      return readIpvs(text);
    default:
      throw new Error('not a rule set kpc can read (expected iptables-save, nft or ipvsadm text)');
  }
}

/** Several texts of one format (iptables and ip6tables dumps, say) read as one model. */
export function mergeModels(models: RuleSetModel[]): RuleSetModel {
  const [first, ...rest] = models;
  if (!first) throw new Error('nothing to merge');
  for (const model of rest) {
    for (const [key, frontend] of model.frontends) first.frontends.set(key, frontend);
    first.foreign.push(...model.foreign);
    first.unallocatedDrop = [...new Set([...first.unallocatedDrop, ...model.unallocatedDrop])].sort();
    first.families = [...new Set([...first.families, ...model.families])].sort();
  }
  return first;
}
