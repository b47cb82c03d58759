import { add, compare, formatFraction, fraction, ONE, subtract, ZERO } from '../read/fraction.js';
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
  if ((word === 'mark' && cursor.peek(1) === 'set') || (word === 'meta' && cursor.peek(1) === 'mark' && cursor.peek(2) === 'set')) {
    return { kind: 'effect', state: { ...state, mark: markSet(cursor, state.mark) } };
  }
  return null;
}

/**
 * `mark set mark or 0x4000`, `meta mark set meta mark ^ 0x4000`, `mark set 0x10`:
 * consumes only the statement, since kube-proxy writes more after it on one
 * rule (`... meta mark set meta mark ^ 0x4000 masquerade fully-random`).
 */
function markSet(cursor: Cursor, mark: number): number {
  if (cursor.peek() === 'meta') cursor.next();
  cursor.next(); // mark
  cursor.next(); // set
  if (cursor.peek() === 'meta') cursor.next();
  if (cursor.peek() !== 'mark') return Number(cursor.next()) >>> 0;
  cursor.next();
  // kpc writes `or`/`xor`/`and`; `nft list` prints `|`/`^`/`&`.
  const operation = cursor.next();
  const value = Number(cursor.next());
  if (operation === 'or' || operation === '|') return (mark | value) >>> 0;
  if (operation === 'xor' || operation === '^') return (mark ^ value) >>> 0;
  return operation === 'and' || operation === '&' ? (mark & value) >>> 0 : mark;
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
 * `dnat ip addr . port to numgen random mod N map { 0 : 10.0.0.1 . 80, ... }`
 * (listed as `dnat ip to ...`): kube-proxy's service chains since endpoint
 * chains were folded into them (2026). Each index equally likely, each
 * branch translated and accepted. Null when the rule's dnat is not such a map.
 */
export function dnatNumgen(cursor: Cursor, state: State, chain: string, context: NftRuleContext, step: (s: State, note: string) => State): Branch[] | null {
  const at = cursor.tokens.indexOf('numgen', cursor.at);
  if (at < 0) return null;
  const words = cursor.tokens.slice(at, at + 5);
  if (words[1] !== 'random' || words[2] !== 'mod' || words[4] !== 'map') {
    context.warn(`${chain}: only "dnat ... to numgen random mod N map { ... }" is modelled`);
    return [{ share: ONE, state, action: null }];
  }
  const modulus = Number(words[3]);
  cursor.at = at + 5;
  const branches: Branch[] = [];
  for (const element of cursor.values()) {
    const [index = '', value = ''] = element.split(' : ');
    const [low, high = low] = index.trim().split('-').map(Number);
    const [ip, port] = value.trim().split(' . ');
    if (!ip || !port) continue;
    const count = Math.min(high!, modulus - 1) - Math.max(low!, 0) + 1;
    if (!(count > 0)) continue;
    const share = fraction(count, modulus);
    const target = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
    branches.push({ share, state: step(translated(state, target), `numgen picks ${index.trim()} of 0-${modulus - 1} (probability ${formatFraction(share)})`), action: { kind: 'accept' } });
  }
  cursor.at = cursor.tokens.length;
  return branches;
}

/**
 * The compact layout's DNAT: `dnat ip to ip daddr . meta l4proto . th dport .
 * numgen random mod N map @M` (or `meta l4proto . th dport . numgen ...` for
 * node ports): the map's elements for the packet's key, each index equally
 * likely. ClientIP affinity's `numgen random mod 1 offset K` (listed without
 * `offset` for 0) picks exactly element K. An index with no element for the
 * key: on that share the rule does not apply.
 */
export function dnatByMap(cursor: Cursor, state: State, chain: string, context: NftRuleContext, step: (s: State, note: string) => State): Branch[] {
  const words = cursor.tokens.slice(cursor.at);
  const text = words.join(' ');
  const match = /^dnat (?:ip6? )?to (.+) \. numgen random mod (\d+)(?: offset (\d+))? map @(\S+)$/.exec(text);
  cursor.at = cursor.tokens.length;
  const packet = state.packet;
  const fields: Record<string, string> = { 'ip daddr': packet.dst, 'ip6 daddr': packet.dst, 'meta l4proto': packet.protocol.toLowerCase(), 'th dport': String(packet.dport) };
  const parts = match ? match[1]!.split(' . ').map((field) => fields[field.trim()]) : [undefined];
  const modulus = match ? Number(match[2]) : 0;
  if (!match || parts.some((part) => part === undefined) || !(modulus >= 1)) {
    context.warn(`${chain}: cannot evaluate ${JSON.stringify(text)} (rule treated as not matching)`);
    return [{ share: ONE, state, action: null }];
  }
  const offset = Number(match[3] ?? 0);
  const map = match[4]!;
  const key = parts.map((part) => canonicalOrSame(part!)).join(' . ');
  const branches: Branch[] = [];
  let covered = ZERO;
  for (const element of context.table.containers.get(map)?.elements ?? []) {
    const [left, right = ''] = element.split(' : ');
    const pieces = left!.trim().split(' . ');
    if (pieces.slice(0, -1).map(canonicalOrSame).join(' . ') !== key) continue;
    const index = Number(pieces.at(-1));
    if (!(index >= offset && index < offset + modulus)) continue;
    const [address, port] = right.trim().split(' . ');
    const target = address!.includes(':') ? `[${canonicalOrSame(address!)}]:${port}` : `${address}:${port}`;
    const share = fraction(1, modulus);
    covered = add(covered, share);
    const note = modulus === 1 ? `@${map} element ${index} (the index this chain stands for)` : `@${map} picks ${index} of ${offset}-${offset + modulus - 1} (probability ${formatFraction(share)})`;
    branches.push({ share, state: step(translated(state, target), note), action: { kind: 'accept' } });
  }
  if (compare(covered, ONE) < 0) branches.push({ share: subtract(ONE, covered), state, action: null });
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

/**
 * `numgen random mod N vmap { 0 : goto A, 1-2 : goto B }`: each index equally
 * likely, so an element covering c indexes takes exactly c/N. Indexes no
 * element covers (a partial map) go on to the next rule.
 */
export function numgen(cursor: Cursor, state: State, chain: string, context: NftRuleContext, step: (s: State, note: string) => State): Branch[] {
  const words = cursor.tokens.slice(cursor.at, cursor.at + 4);
  const modulus = Number(words[3]);
  if (words[1] !== 'random' || words[2] !== 'mod' || cursor.tokens[cursor.at + 4] !== 'vmap' || !Number.isSafeInteger(modulus) || modulus < 1) {
    context.warn(`${chain}: only "numgen random mod N vmap { ... }" is modelled`);
    return [{ share: ONE, state, action: null }];
  }
  cursor.at += 5;
  const branches: Branch[] = [];
  let covered = ZERO;
  for (const element of cursor.values()) {
    const { key, verdict } = splitElement(element);
    if (verdict === null) continue;
    const [low, high = low] = key[0]!.split('-').map(Number);
    const count = Math.min(high!, modulus - 1) - Math.max(low!, 0) + 1;
    if (!(count > 0)) continue;
    const share = fraction(count, modulus);
    covered = add(covered, share);
    branches.push({ share, state: step(state, `numgen picks ${key[0]} of 0-${modulus - 1}, probability ${formatFraction(share)}`), action: verdictOf(verdict) });
  }
  if (compare(covered, ONE) < 0) branches.push({ share: subtract(ONE, covered), state, action: null });
  return branches;
}
