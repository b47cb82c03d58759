import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { dottedQuadValue, isDottedQuad, networkOf, octetsOf } from '../../src/net/dotted-quad.js';
import { canonicalIP, ipFamily, isIP, parseCIDR } from '../../src/net/ip.js';
import { random } from '../helpers/random.js';

/**
 * The hand-written IPv4 reader must accept exactly what ipaddr.js calls a
 * four-part decimal address (which excludes leading zeros, as Kubernetes
 * does), and read it to the same octets.
 */

const TRICKY = [
  '1.2.3.4', '0.0.0.0', '255.255.255.255', '10.0.0.1', '192.168.100.200', '100.64.0.0',
  '01.2.3.4', '1.02.3.4', '1.2.3.04', '00.0.0.0', '0.0.0.00', '1.2.3.010',
  '1.2.3', '1.2', '1', '1.2.3.4.5', '1.2.3.', '.1.2.3', '1..2.3', '1.2.3.4.',
  '256.1.1.1', '1.256.1.1', '1.1.1.256', '255.255.255.2555', '999.1.1.1', '1000.1.1.1', '300.0.0.0',
  ' 1.2.3.4', '1.2.3.4 ', '1.2.3.4\n', '\n1.2.3.4', '1.2.3.4\u0000', '1.2. 3.4', '1.2.3.4/32',
  '0x1.2.3.4', '0x01020304', '1.2.3.0x4', '0xff.0xff.0xff.0xff', '1e2.1.1.1', '+1.2.3.4', '-1.2.3.4',
  '1.2.3.-4', '１.2.3.4', '1.2.3.4%eth0', '::ffff:1.2.3.4', '::1', '', '.', '...', '0000000000000001.2.3.4',
  '1.2.3.4444', '12.34.56.78', '249.250.251.252', '199.200.201.202', '4294967296', '1.2.3.4:80',
];

function generated(count: number): string[] {
  const next = random(7);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const alphabet = ['0', '1', '2', '5', '9', '.', '.', 'x', ' ', '\n', ':', 'a', '-'];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const shape = next();
    if (shape < 0.4) {
      // Four numbers, sometimes out of range or zero-padded.
      const part = () => {
        const n = Math.floor(next() * 300);
        return next() < 0.1 ? `0${n}` : String(n);
      };
      out.push([part(), part(), part(), part()].join('.'));
    } else if (shape < 0.7) {
      // A valid address with one character changed, added or removed.
      const text = [0, 0, 0, 0].map(() => Math.floor(next() * 256)).join('.');
      const at = Math.floor(next() * (text.length + 1));
      const op = next();
      if (op < 0.33) out.push(text.slice(0, at) + pick(alphabet) + text.slice(at + 1));
      else if (op < 0.66) out.push(text.slice(0, at) + pick(alphabet) + text.slice(at));
      else out.push(text.slice(0, at) + text.slice(at + 1));
    } else {
      out.push(Array.from({ length: 1 + Math.floor(next() * 16) }, () => pick(alphabet)).join(''));
    }
  }
  return out;
}

const INPUTS = [...TRICKY, ...generated(20_000)];

describe('dotted-quad reader', () => {
  it('accepts exactly what ipaddr.js calls a four-part decimal address, with the same octets', () => {
    const wrong: string[] = [];
    let accepted = 0;
    for (const text of INPUTS) {
      const expected = ipaddr.IPv4.isValidFourPartDecimal(text);
      if (isDottedQuad(text) !== expected) wrong.push(`${JSON.stringify(text)}: ipaddr.js says ${expected}`);
      if (!expected) continue;
      accepted++;
      const reference = ipaddr.IPv4.parse(text);
      if (octetsOf(dottedQuadValue(text)).join('.') !== reference.octets.join('.')) wrong.push(`${text}: octets differ`);
      // No leading zeros, so the text is already ipaddr.js's canonical form.
      if (reference.toString() !== text || canonicalIP(text) !== text) wrong.push(`${text}: not canonical`);
    }
    expect(wrong).toEqual([]);
    // The generated inputs must exercise both answers, or the comparison proves little.
    expect(accepted).toBeGreaterThan(2000);
    expect(INPUTS.length - accepted).toBeGreaterThan(2000);
  });

  it('leaves isIP answering as the regular expression kpc used before', () => {
    const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
    const before = (text: string) => DOTTED_QUAD.test(text) || (text.includes(':') && !text.includes('%') && ipaddr.IPv6.isValid(text));
    expect(INPUTS.filter((text) => isIP(text) !== before(text))).toEqual([]);
  });

  it('refuses leading zeros, short forms, hex and surrounding space as Kubernetes does', () => {
    for (const text of ['01.2.3.4', '1.2.3', '256.1.1.1', ' 1.2.3.4', '1.2.3.4\n', '0x1.2.3.4', '1.2.3.04']) {
      expect(isDottedQuad(text), JSON.stringify(text)).toBe(false);
      expect(isIP(text), JSON.stringify(text)).toBe(false);
      expect(ipFamily(text), JSON.stringify(text)).toBeNull();
    }
  });

  it('finds the same network as ipaddr.js for every prefix length', () => {
    const next = random(11);
    for (let i = 0; i < 500; i++) {
      const text = [0, 0, 0, 0].map(() => Math.floor(next() * 256)).join('.');
      const bits = Math.floor(next() * 33);
      const expected = ipaddr.IPv4.networkAddressFromCIDR(`${text}/${bits}`).toString();
      expect(octetsOf(networkOf(dottedQuadValue(text), bits)).join('.'), `${text}/${bits}`).toBe(expected);
      expect(parseCIDR(`${text}/${bits}`)?.text).toBe(`${expected}/${bits}`);
    }
  });

  it('leaves IPv6 and IPv4-mapped IPv6 to ipaddr.js', () => {
    expect(ipFamily('::ffff:1.2.3.4')).toBe(4);
    expect(canonicalIP('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(canonicalIP('FD00:0::1')).toBe('fd00::1');
    expect(ipFamily('fd00::1')).toBe(6);
    expect(parseCIDR('::ffff:10.1.2.3/8')?.text).toBe('10.0.0.0/8');
  });
});
