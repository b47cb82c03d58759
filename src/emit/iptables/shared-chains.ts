import type { NodeContext } from '../../graph/types.js';
import { Table, comment } from './table.js';

/**
 * The chains iptables mode and IPVS mode both fill the same way: marking for
 * masquerade, masquerading marked packets, and accepting what is forwarded
 * for a service.
 */

export function writeMasqueradeChains(nat: Table, node: NodeContext): void {
  const mark = node.masqueradeMark;
  nat.add('KUBE-POSTROUTING', `-m mark ! --mark ${mark}/${mark} -j RETURN`);
  // Clear the mark so a packet that goes round the stack again is not masqueraded twice.
  nat.add('KUBE-POSTROUTING', `-j MARK --xor-mark ${mark}`);
  nat.add('KUBE-POSTROUTING', comment('kubernetes service traffic requiring SNAT'), node.randomFully ? '-j MASQUERADE --random-fully' : '-j MASQUERADE');
  nat.add('KUBE-MARK-MASQ', `-j MARK --or-mark ${mark}`);
}

/** kube-proxy's nfacct counter names (pkg/proxy/metrics). */
export const NFACCT = { invalidDropped: 'ct_state_invalid_dropped_pkts', localhostNodePortAccepted: 'localhost_nps_accepted_pkts' } as const;

/** `counter`: the nfacct counter of dropped INVALID packets, where the mode counts them (iptables mode on an nfacct host). */
export function writeForwardChain(filter: Table, node: NodeContext, counter: string | null = null): void {
  const mark = node.masqueradeMark;
  // Out-of-window packets conntrack calls INVALID would be reset by the endpoint (kubernetes#74839).
  if (node.dropInvalidForwarded) filter.add('KUBE-FORWARD', `-m conntrack --ctstate INVALID${counter ? ` -m nfacct --nfacct-name ${counter}` : ''} -j DROP`);
  filter.add('KUBE-FORWARD', comment('kubernetes forwarding rules'), `-m mark --mark ${mark}/${mark} -j ACCEPT`);
  filter.add('KUBE-FORWARD', comment('kubernetes forwarding conntrack rule'), '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
}
