import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base32Sha256 } from '../../src/emit/hash.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 of the digest, bit by bit: slow and plainly right. */
function reference(text: string, length: number): string {
  const bits = [...hash('sha256', text, 'buffer')].map((byte) => byte.toString(2).padStart(8, '0')).join('');
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[parseInt(bits.slice(i * 5, i * 5 + 5), 2)];
  return out;
}

describe('base32Sha256', () => {
  it('agrees with RFC 4648 base32 of sha256 for every length up to 48', () => {
    for (const text of ['', 'ns1/svc1:p80tcp', 'ns/svc:httptcp10.0.0.1:8080', 'é/ünïcode', 'x'.repeat(300)]) {
      for (let length = 1; length <= 48; length++) expect(base32Sha256(text, length), `${text} ${length}`).toBe(reference(text, length));
    }
  });

  it('refuses a length the digest cannot give', () => {
    expect(() => base32Sha256('a', 49)).toThrow(/at most 48/);
  });
});
