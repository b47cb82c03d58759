import type { Cursor, NftRuleContext } from './nft-cursor.js';
import { nftRefusalReason } from './reasons.js';
import { splitElement } from './nft-values.js';
import { translated, type Action, type Branch, type State } from './walk.js';
import { canonicalIP } from '../net/ip.js';

/**
 * nft statements: verdicts (jump, goto, return, accept, drop, reject), what
 * they do to the packet (dnat, masquerade, mark set, set updates) and the
 * `numgen random` split.
 */

export type Statement = { kind: 'effect'; state: State } | { kind: 'verdict'; state: State; action: Action };

/** A statement at the cursor (consumed), or null when the cursor is at a match. */
export function statementAt(cursor: Cursor, state: State, chain: string, context: NftRuleContext): Statement | null {
  const word = cursor.peek();
  const verdict = (action: Action, next: State = state): Statement => ({ kind: 'verdict', state: next, action });
  switch (word) {
    case 'counter':
      cursor.next();
      if (cursor.peek() === 'packets') cursor.at += 4;
      return { kind: 'effect', state };
    case 'comment':
      cursor.at += 2;
      return { kind: 'effect', state };
    case 'jump':
    case 'goto':
      cursor.next();
      return verdict({ kind: word, chain: cursor.next() });
    case 'return':
    case 'accept':
    case 'continue':
      cursor.at = cursor.tokens.length;
      return verdict(word === 'continue' ? { kind: 'continue' } : { kind: word });
    case 'drop':
    case 'reject':
      cursor.at = cursor.tokens.length;
      return verdict({ kind: word }, { ...state, reason: chain === 'reject-chain' && state.reason ? state.reason : nftRefusalReason(chain, null, word) });
    case 'dnat':
      return verdict({ kind: 'accept' }, dnat(cursor, state));
    case 'masquerade':
    case 'snat':
      cursor.at = cursor.tokens.length;
      return verdict({ kind: 'accept' }, { ...state, masquerade: true });
    case 'update':
    case 'add':
      // `update @affinity-X { ip saddr }`: remembers the client for ClientIP affinity; the packet goes on.
      cursor.next();
      cursor.next();
      cursor.values();
      return { kind: 'effect', state };
    case 'log':
      context.warn(`${chain}: log statements are skipped`);
      cursor.at = cursor.tokens.length;
      return { kind: 'effect', state };
  }
  if ((word === 'mark' || (word === 'meta' && cursor.peek(1) === 'mark')) && cursor.tokens.includes('set')) {
    return { kind: 'effect', state: { ...state, mark: markSet(cursor, state.mark) } };
  }
  return null;
}

/** `mark set mark or 0x4000`, `meta mark set mark xor 0x4000`, `mark set 0x10`. */
function markSet(cursor: Cursor, mark: number): number {
  const words: string[] = [];
  while (!cursor.done()) words.push(cursor.next());
  const text = words.join(' ');
  // kpc writes `or`/`xor`/`and`; `nft list` prints `|`/`^`/`&`.
  const operation = /set (?:meta )?mark (or|\||xor|\^|and|&) (\S+)/.exec(text);
  if (operation) {
    const value = Number(operation[2]);
    if (operation[1] === 'or' || operation[1] === '|') return (mark | value) >>> 0;
    return operation[1] === 'xor' || operation[1] === '^' ? (mark ^ value) >>> 0 : (mark & value) >>> 0;
  }
  const set = /set (\S+)$/.exec(text);
  return set ? Number(set[1]) >>> 0 : mark;
}

/** `dnat to 10.244.1.2:80`, `dnat ip to ...`, `dnat to [fd00::2]:80`. */
function dnat(cursor: Cursor, state: State): State {
  cursor.next();
  while (cursor.peek() === 'ip' || cursor.peek() === 'ip6' || cursor.peek() === 'to') cursor.next();
  const target = cursor.next();
  cursor.at = cursor.tokens.length;
  return translated(state, target);
}

export function verdictOf(text: string): Action {
  const [word, chain] = text.split(' ');
  if ((word === 'goto' || word === 'jump') && chain) return { kind: word, chain };
  if (word === 'drop' || word === 'reject' || word === 'accept' || word === 'return') return { kind: word };
  return { kind: 'continue' };
}

/**
 * The compact layout's DNAT: `dnat ip to ip daddr . meta l4proto . th dport .
 * numgen random mod N map @M` (or `meta l4proto . th dport . numgen ...` for
 * node ports): the map's elements for the packet's key, each index equally
 * likely. No element for the key: the rule does not apply.
 */
export function dnatByMap(cursor: Cursor, state: State, chain: string, context: NftRuleContext, step: (s: State, note: string) => State): Branch[] {
  const words = cursor.tokens.slice(cursor.at);
  const text = words.join(' ');
  const match = /^dnat (?:ip6? )?to (.+) \. numgen random mod (\d+) map @(\S+)$/.exec(text);
  cursor.at = cursor.tokens.length;
  const packet = state.packet;
  const fields: Record<string, string> = { 'ip daddr': packet.dst, 'ip6 daddr': packet.dst, 'meta l4proto': packet.protocol.toLowerCase(), 'th dport': String(packet.dport) };
  const parts = match ? match[1]!.split(' . ').map((field) => fields[field.trim()]) : [undefined];
  if (!match || parts.some((part) => part === undefined)) {
    context.warn(`${chain}: cannot evaluate ${JSON.stringify(text)} (rule treated as not matching)`);
    return [{ share: 1, state, action: null }];
  }
  const modulus = Number(match[2]);
  const key = parts.map((part) => canonicalOrSame(part!)).join(' . ');
  const branches: Branch[] = [];
  for (const element of context.table.containers.get(match[3]!)?.elements ?? []) {
    const [left, right = ''] = element.split(' : ');
    const pieces = left!.trim().split(' . ');
    if (pieces.slice(0, -1).map(canonicalOrSame).join(' . ') !== key) continue;
    const [address, port] = right.trim().split(' . ');
    const target = address!.includes(':') ? `[${canonicalOrSame(address!)}]:${port}` : `${address}:${port}`;
    branches.push({ share: 1 / modulus, state: step(translated(state, target), `@${match[3]} picks ${pieces.at(-1)} of 0-${modulus - 1} (probability ${round(1 / modulus)})`), action: { kind: 'accept' } });
  }
  const covered = branches.length / modulus;
  if (covered < 1) branches.push({ share: 1 - covered, state, action: null });
  return branches;
}

function canonicalOrSame(text: string): string {
  const trimmed = text.trim();
  if (!/[.:]/.test(trimmed)) return trimmed;
  try {
    return canonicalIP(trimmed);
  } catch {
    return trimmed;
  }
}

/** `numgen random mod N vmap { 0 : goto A, 1 : goto B }`: each index equally likely. */
export function numgen(cursor: Cursor, state: State, chain: string, context: NftRuleContext, step: (s: State, note: string) => State): Branch[] {
  const words = cursor.tokens.slice(cursor.at, cursor.at + 4);
  if (words[1] !== 'random' || words[2] !== 'mod' || cursor.tokens[cursor.at + 4] !== 'vmap') {
    context.warn(`${chain}: only "numgen random mod N vmap { ... }" is modelled`);
    return [{ share: 1, state, action: null }];
  }
  const modulus = Number(words[3]);
  cursor.at += 5;
  const branches: Branch[] = [];
  let covered = 0;
  for (const element of cursor.values()) {
    const { key, verdict } = splitElement(element);
    if (verdict === null) continue;
    const [low, high = low] = key[0]!.split('-').map(Number);
    const share = (Math.min(high!, modulus - 1) - low! + 1) / modulus;
    covered += share;
    branches.push({ share, state: step(state, `numgen picks ${key[0]} of 0-${modulus - 1} (probability ${round(share)})`), action: verdictOf(verdict) });
  }
  if (covered < 1) branches.push({ share: 1 - covered, state, action: null });
  return branches;
}

function round(n: number): number {
  return Math.round(n * 1e4) / 1e4;
}
