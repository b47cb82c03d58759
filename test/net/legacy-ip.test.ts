import { describe, expect, it } from 'vitest';
import { legacyIPv4, legacyIPv4CIDR } from '../../src/net/legacy-ip.js';

describe('legacy IPv4 text, as ParseIPSloppy reads it', () => {
  it('reads every part as decimal, whatever its leading zeros', () => {
    expect(legacyIPv4('172.30.0.041')).toBe('172.30.0.41');
    expect(legacyIPv4('010.180.00.001')).toBe('10.180.0.1');
    expect(legacyIPv4('000255.0.0.0')).toBe('255.0.0.0');
  });

  it('refuses what Go never parsed as IPv4', () => {
    for (const text of ['1.2.3', '1.2.3.4.5', '1.2.3.256', '0x1.2.3.4', '1.2.3.4 ', ' 1.2.3.4', '1..3.4', '1.2.3.-4', '١.2.3.4', '']) {
      expect(legacyIPv4(text), text).toBeNull();
    }
  });

  it('reads a CIDR prefix with leading zeros too, up to /32', () => {
    expect(legacyIPv4CIDR('203.0.113.000/025')).toEqual({ address: '203.0.113.0', bits: 25 });
    expect(legacyIPv4CIDR('203.0.113.000/033')).toBeNull();
    expect(legacyIPv4CIDR('203.0.113.000')).toBeNull();
  });
});
