import { hash } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The first `length` characters of RFC 4648 base32 (Go's base32.StdEncoding)
 * of sha256(text): kube-proxy's chain-name hash. Only the bytes those
 * characters need are encoded, and the one-shot hash avoids a Hash object per
 * name; a 10k-service rule set names a few hundred thousand chains.
 */
export function base32Sha256(text: string, length: number): string {
  const bytes = hash('sha256', text, 'buffer');
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    buffer = ((buffer << 8) | bytes[i]!) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}
