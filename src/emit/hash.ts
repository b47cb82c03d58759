import { hash } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** Two base32 characters for each 10-bit value. */
const PAIRS = Array.from({ length: 1024 }, (_, v) => ALPHABET[v >>> 5]! + ALPHABET[v & 31]!);

/**
 * The first `length` characters of RFC 4648 base32 (Go's base32.StdEncoding)
 * of sha256(text): kube-proxy's chain-name hash. A 10k-service rule set names
 * a few hundred thousand chains, so this takes the digest as hex (a string
 * from the one-shot hash: no Buffer per name) and turns each 5 hex digits,
 * 20 bits, into 4 base32 characters.
 */
export function base32Sha256(text: string, length: number): string {
  if (length > 48) throw new Error(`base32Sha256: at most 48 characters, asked for ${length}`);
  const hex = hash('sha256', text, 'hex');
  let out = '';
  for (let at = 0; out.length < length; at += 5) {
    const bits = parseInt(hex.substring(at, at + 5), 16);
    out += PAIRS[bits >>> 10]! + PAIRS[bits & 1023]!;
  }
  return out.length === length ? out : out.slice(0, length);
}
