import { isLocal } from './packet.js';
import type { Cursor, NftRuleContext } from './nft-cursor.js';
import { constantNumgen, durationSeconds, splitElement, valueMatches, type FieldKind } from './nft-values.js';
import type { State } from './walk.js';

/**
 * nft matches: selectors (ip daddr, meta l4proto, th dport, fib ... type,
 * ct state, mark), joined by `.` into concatenations, compared with a value,
 * a named or anonymous set, or looked up in a verdict map.
 */

export interface Field {
  kind: FieldKind;
  /** The packet's value, or null when the selector cannot apply (tcp dport on a UDP packet). */
  read: (state: State) => string | number | null;
}

/** Selectors joined by `.` (a concatenation), each a packet field. Null when one is unknown. */
export function selectors(cursor: Cursor, context: NftRuleContext): Field[] | null {
  const fields: Field[] = [];
  for (;;) {
    const field = selector(cursor, context);
    if (!field) return null;
    fields.push(field);
    if (cursor.peek() !== '.') return fields;
    cursor.next();
  }
}

function selector(cursor: Cursor, context: NftRuleContext): Field | null {
  // The compact layout's constant field (ClientIP affinity's endpoint index): `numgen random mod 1 offset K` is always K.
  const constant = constantNumgen(cursor.tokens, cursor.at);
  if (constant) {
    cursor.at += constant.length;
    return { kind: 'integer', read: () => constant.value };
  }
  const first = cursor.next();
  const second = cursor.peek();
  if ((first === 'ip' || first === 'ip6') && (second === 'saddr' || second === 'daddr')) {
    cursor.next();
    return { kind: 'address', read: (s) => (second === 'saddr' ? s.packet.src : s.packet.dst) };
  }
  if (first === 'meta' && second === 'l4proto') {
    cursor.next();
    return { kind: 'protocol', read: (s) => s.packet.protocol };
  }
  if (first === 'th' && second === 'dport') {
    cursor.next();
    return { kind: 'port', read: (s) => s.packet.dport };
  }
  if ((first === 'tcp' || first === 'udp' || first === 'sctp') && second === 'dport') {
    cursor.next();
    return { kind: 'port', read: (s) => (s.packet.protocol === first ? s.packet.dport : null) };
  }
  if (first === 'fib' && (second === 'saddr' || second === 'daddr')) {
    cursor.next();
    while (cursor.peek() !== 'type' && !cursor.done()) cursor.next();
    cursor.next();
    return { kind: 'fib-type', read: (s) => (isLocal(second === 'saddr' ? s.packet.src : s.packet.dst, context.node) ? 'local' : 'unicast') };
  }
  if (first === 'ct' && (second === 'state' || second === 'status')) {
    cursor.next();
    // The first packet of a connection: state new; status dnat once its destination was translated.
    return second === 'state' ? { kind: 'ct-state', read: () => 'new' } : { kind: 'ct-status', read: (s) => (s.dnat ? 'dnat' : 'none') };
  }
  if (first === 'mark' || (first === 'meta' && second === 'mark')) {
    if (first === 'meta') cursor.next();
    if (cursor.peek() === 'and' || cursor.peek() === '&') {
      cursor.next();
      const mask = Number(cursor.next());
      return { kind: 'mark', read: (s) => (s.mark & mask) >>> 0 };
    }
    return { kind: 'mark', read: (s) => s.mark };
  }
  return null;
}

/** `[==|!=] VALUE|@set|{ ... }` against the fields. */
export function compare(cursor: Cursor, fields: Field[], state: State, context: NftRuleContext): { matches: boolean; state: State } | null {
  let negated = false;
  if (cursor.peek() === '!=' || cursor.peek() === '==') negated = cursor.next() === '!=';
  const word = cursor.peek();
  if (word === undefined) return null;
  const actual = fields.map((f) => f.read(state));
  if (actual.some((a) => a === null)) {
    cursor.values();
    return { matches: false, state };
  }
  let elements: string[];
  let affinity: number | null = null;
  if (word.startsWith('@')) {
    cursor.next();
    const container = context.table.containers.get(word.slice(1));
    if (!container) return null;
    elements = container.elements;
    affinity = affinityTimeout(container.spec, fields);
  } else elements = cursor.values();
  const results = elements.map((element) => keyMatches(fields, actual as (string | number)[], splitElement(element).key));
  if (results.includes(null)) return null;
  const found = results.includes(true);
  const next = affinity === null ? state : { ...state, affinitySeconds: affinity, affinityRemembered: state.affinityRemembered || found };
  return { matches: found !== negated, state: next };
}

/**
 * A dynamic set with a timeout looked up by source address is kube-proxy's
 * ClientIP affinity. kpc's file leaves it empty (every client is new); a live
 * listing holds the clients the kernel remembers.
 */
function affinityTimeout(spec: string, fields: Field[]): number | null {
  const timeout = /timeout ([0-9dhms]+)/.exec(spec);
  if (!timeout || !/dynamic/.test(spec) || fields[0]?.kind !== 'address') return null;
  return durationSeconds(timeout[1]!);
}

/** Whether an element's key matches the packet's fields; null when a key part is not a value of its kind. */
function keyMatches(fields: Field[], actual: (string | number)[], key: string[]): boolean | null {
  if (key.length !== fields.length) return false;
  const parts = fields.map((field, i) => valueMatches(field.kind, actual[i]!, key[i]!));
  if (parts.includes(null)) return null;
  return parts.every((part) => part === true);
}

export interface VerdictHit {
  map: string | null;
  element: string;
  verdict: string;
  target: string | null;
  comment: string | null;
}

/** `vmap @name` or `vmap { k : v, ... }`: the element the packet's fields select, or null. */
export function lookupVerdict(cursor: Cursor, fields: Field[], state: State, context: NftRuleContext): VerdictHit | null {
  const word = cursor.peek() ?? '';
  const map = word.startsWith('@') ? word.slice(1) : null;
  const elements = map ? (cursor.next(), context.table.containers.get(map)?.elements ?? []) : cursor.values();
  const actual = fields.map((f) => f.read(state));
  if (actual.some((a) => a === null)) return null;
  for (const element of elements) {
    const parsed = splitElement(element);
    if (parsed.verdict === null || keyMatches(fields, actual as (string | number)[], parsed.key) !== true) continue;
    const target = /^(?:goto|jump) (\S+)$/.exec(parsed.verdict)?.[1] ?? null;
    return { map, element: element.replace(/\s*comment "[^"]*"/, ''), verdict: parsed.verdict, target, comment: parsed.comment };
  }
  return null;
}
