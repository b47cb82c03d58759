import { traceIptables } from './iptables.js';
import { traceNftables } from './nftables.js';
import type { NodeFacts, Packet } from './packet.js';
import type { Explanation } from './trace.js';

export type { Explanation, Outcome, Step, TracePath } from './trace.js';
export type { NodeFacts, Packet, Protocol } from './packet.js';
export { parseDestination } from './packet.js';

/**
 * Traces one new connection's first packet through a rule set's text, as the
 * kernel would walk it. `text` is what is (or would be) loaded: for iptables
 * one family's iptables-save text, for nftables the whole file.
 */
export function explainPacket(text: string, mode: 'iptables' | 'nftables', packet: Packet, node: NodeFacts): Explanation {
  return mode === 'iptables' ? traceIptables(text, packet, node) : traceNftables(text, packet, node);
}
