import type { NftTableText } from '../read/nft-text.js';
import { isLocal, type NodeFacts } from './packet.js';
import { chainService, nftRefusalReason } from './reasons.js';
import { durationSeconds, splitElement, tokenize, valueMatches, type FieldKind } from './nft-values.js';
import type { Step } from './trace.js';
import { translated, withStep, type Action, type Branch, type State } from './walk.js';

/**
 * How one nftables rule applies to a packet: its matches left to right (any
 * false one ends the rule), then its statements. Covers what kube-proxy's
 * and kpc's tables use: address, protocol and port matches, concatenated map
 * lookups (vmap), named and anonymous sets, fib type, ct state, marks,
 * `numgen random` splits, dnat, masquerade and the verdicts.
 */

export interface NftRuleContext {
  table: NftTableText;
  node: NodeFacts;
  warn: (message: string) => void;
}

interface Field {
  kind: FieldKind;
  /** The packet's value, or null when the selector cannot apply (tcp dport on a UDP packet). */
  read: (state: State) => string | number | null;
}

class Cursor {
  constructor(
    readonly tokens: string[],
    public at = 0,
  ) {}
  peek(offset = 0): string | undefined {
    return this.tokens[this.at + offset];
  }
  next(): string {
    return this.tokens[this.at++] ?? '';
  }
  done(): boolean {
    return this.at >= this.tokens.length;
  }
  /** `{ a, b . c, ... }` → its elements as text; or one word. */
  values(): string[] {
    if (this.peek() !== '{') return [this.next()];
    this.next();
    const elements: string[] = [];
    let current: string[] = [];
    let depth = 0;
    while (!this.done()) {
      const token = this.next();
      if (token === '{') depth++;
      if (token === '}' && depth-- === 0) break;
      if (token === ',' && depth === 0) {
        elements.push(current.join(' '));
        current = [];
      } else current.push(token);
    }
    if (current.length) elements.push(current.join(' '));
    return elements.filter((e) => e !== '');
  }
}

export function applyNftRule(rule: string, chain: string, state: State, context: NftRuleContext): Branch[] {
  const cursor = new Cursor(tokenize(rule));
  let current = state;
  let note: string | undefined;
  let service: string | null = chainService(chain);
  const unmatched = (): Branch[] => [{ share: 1, state: current, action: null }];
  const step = (s: State): State => withStep(s, stepOf(rule, chain, context, service, note));
  while (!cursor.done()) {
    const word = cursor.peek()!;
    const statement = statementAt(cursor, current, chain, context);
    if (statement) {
      if (statement.kind === 'effect') {
        current = statement.state;
        continue;
      }
      return [{ share: 1, state: step(statement.state), action: statement.action }];
    }
    if (word === 'numgen') return numgen(cursor, current, chain, context, (s, n) => withStep(s, stepOf(rule, chain, context, service, n)));
    const fields = selectors(cursor, context);
    if (!fields) {
      context.warn(`${chain}: cannot evaluate ${JSON.stringify(cursor.tokens.slice(cursor.at).join(' '))} (rule treated as not matching): ${rule}`);
      return unmatched();
    }
    if (cursor.peek() === 'vmap') {
      cursor.next();
      const hit = lookupVerdict(cursor, fields, current, context);
      if (!hit) return unmatched();
      note = `${hit.map ? `@${hit.map} ` : ''}element ${hit.element}`;
      service = chainService(hit.target ?? '') ?? hit.comment ?? service;
      const verdict = verdictOf(hit.verdict);
      const reason = verdict.kind === 'drop' || verdict.kind === 'reject' || hit.target === 'reject-chain' ? nftRefusalReason(chain, hit.map, verdict.kind === 'drop' ? 'drop' : 'reject') : current.reason;
      return [{ share: 1, state: step({ ...current, reason }), action: verdict }];
    }
    const outcome = compare(cursor, fields, current, context);
    if (outcome === null) {
      context.warn(`${chain}: cannot evaluate a comparison (rule treated as not matching): ${rule}`);
      return unmatched();
    }
    current = outcome.state;
    if (!outcome.matches) return unmatched();
  }
  // Matches only (or only non-deciding statements): the rule applied and the packet goes on.
  return [{ share: 1, state: step(current), action: { kind: 'continue' } }];
}

function stepOf(rule: string, chain: string, context: NftRuleContext, service: string | null, note: string | undefined): Step {
  return { table: `${context.table.family} ${context.table.name}`, chain, rule, service, ...(note ? { note } : {}) };
}

type Statement = { kind: 'effect'; state: State } | { kind: 'verdict'; state: State; action: Action };

/** A statement at the cursor (consumed), or null when the cursor is at a match. */
function statementAt(cursor: Cursor, state: State, chain: string, context: NftRuleContext): Statement | null {
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

/** Selectors joined by `.` (a concatenation), each a packet field. Null when one is unknown. */
function selectors(cursor: Cursor, context: NftRuleContext): Field[] | null {
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
function compare(cursor: Cursor, fields: Field[], state: State, context: NftRuleContext): { matches: boolean; state: State } | null {
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

interface VerdictHit {
  map: string | null;
  element: string;
  verdict: string;
  target: string | null;
  comment: string | null;
}

/** `vmap @name` or `vmap { k : v, ... }`: the element the packet's fields select, or null. */
function lookupVerdict(cursor: Cursor, fields: Field[], state: State, context: NftRuleContext): VerdictHit | null {
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

function verdictOf(text: string): Action {
  const [word, chain] = text.split(' ');
  if ((word === 'goto' || word === 'jump') && chain) return { kind: word, chain };
  if (word === 'drop' || word === 'reject' || word === 'accept' || word === 'return') return { kind: word };
  return { kind: 'continue' };
}

/** `numgen random mod N vmap { 0 : goto A, 1 : goto B }`: each index equally likely. */
function numgen(cursor: Cursor, state: State, chain: string, context: NftRuleContext, step: (s: State, note: string) => State): Branch[] {
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
