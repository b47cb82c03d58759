import { cidrContains, parseCIDR, parseIP } from '../net/ip.js';

/**
 * nft rule text as tokens, and how a packet field compares with an nft
 * value (an address, CIDR or range; a protocol; a port or port range).
 */

/** Splits a rule into words, with `{`, `}` and `,` as words of their own and quoted strings kept whole. */
export function tokenize(rule: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let quoted = false;
  const flush = () => {
    if (current) tokens.push(current);
    current = '';
  };
  for (const c of rule) {
    if (c === '"') {
      quoted = !quoted;
      current += c;
    } else if (quoted) current += c;
    else if (c === ' ' || c === '\t') flush();
    else if (c === '{' || c === '}' || c === ',') {
      flush();
      tokens.push(c);
    } else current += c;
  }
  flush();
  return tokens;
}

/** What a selector reads from the packet, which decides how values compare. */
export type FieldKind = 'address' | 'protocol' | 'port' | 'fib-type' | 'ct-state' | 'ct-status' | 'mark' | 'integer';

const PROTOCOL_NUMBERS: Record<string, string> = { '6': 'tcp', '17': 'udp', '132': 'sctp' };

/** Whether a packet's field equals (or falls inside) one nft value; null when the text is no value of that kind. */
export function valueMatches(kind: FieldKind, actual: string | number, literal: string): boolean | null {
  switch (kind) {
    case 'address':
      return addressIn(String(actual), literal);
    case 'protocol':
      return (PROTOCOL_NUMBERS[literal] ?? literal) === actual;
    case 'port': {
      const [low, high = low] = literal.split('-').map(Number);
      if (!Number.isInteger(low) || !Number.isInteger(high)) return null;
      return Number(actual) >= low! && Number(actual) <= high!;
    }
    case 'integer':
      return /^(?:\d+|0x[0-9a-f]+)$/i.test(literal) ? Number(actual) === Number(literal) : null;
    case 'mark':
      return Number.isNaN(Number(literal)) ? null : Number(actual) === Number(literal) >>> 0;
    case 'fib-type':
    case 'ct-status':
      return actual === literal;
    case 'ct-state':
      return literal.split(',').includes(String(actual));
  }
}

function addressIn(ip: string, literal: string): boolean | null {
  const dash = literal.indexOf('-');
  if (dash > 0 && !literal.includes('/')) {
    const low = parseIP(literal.slice(0, dash));
    const high = parseIP(literal.slice(dash + 1));
    const value = parseIP(ip);
    if (!low || !high) return null;
    if (!value || low.kind() !== value.kind()) return false;
    const n = (a: typeof value) => BigInt(`0x${Buffer.from(a.toByteArray()).toString('hex')}`);
    return n(value) >= n(low) && n(value) <= n(high);
  }
  const cidr = parseCIDR(literal);
  return cidr === null ? null : cidrContains(cidr, ip);
}

/** `key [comment "x"] : verdict` → its parts; `key` alone for a set element. */
export function splitElement(element: string): { key: string[]; verdict: string | null; comment: string | null } {
  const comment = /comment "([^"]*)"/.exec(element);
  // A live listing decorates elements of dynamic sets: `10.244.1.4 timeout 3h expires 2h59m58s`.
  const bare = element.replace(/\s*comment "[^"]*"/, '').replace(/\s+(timeout|expires) \S+/g, '').replace(/\s+counter packets \d+ bytes \d+/, '');
  const colon = bare.lastIndexOf(' : ');
  const key = (colon < 0 ? bare : bare.slice(0, colon)).trim();
  return { key: key.split(' . ').map((part) => part.trim()), verdict: colon < 0 ? null : bare.slice(colon + 3).trim(), comment: comment ? comment[1]! : null };
}

/**
 * `numgen random mod 1 [offset K]` at the cursor: the constant K (nft lists
 * offset 0 by leaving it out), consumed; null (nothing consumed) for any
 * other numgen, whose value is not one number.
 */
export function constantNumgen(tokens: string[], at: number): { value: number; length: number } | null {
  if (tokens[at] !== 'numgen' || tokens[at + 1] !== 'random' || tokens[at + 2] !== 'mod' || tokens[at + 3] !== '1') return null;
  if (tokens[at + 4] !== 'offset') return { value: 0, length: 4 };
  const offset = Number(tokens[at + 5]);
  return Number.isSafeInteger(offset) && offset >= 0 ? { value: offset, length: 6 } : null;
}

/** nft durations: `10800s`, `3h`, `1d2h`, `10m`. */
export function durationSeconds(text: string): number {
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|d|h|m|s)/g)) {
    total += Number(n) * ({ d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 } as Record<string, number>)[unit!]!;
  }
  return total;
}
