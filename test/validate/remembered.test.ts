import { describe, expect, it } from 'vitest';
import { labelKey, namespaceName, nodeName, zoneName } from '../../src/validate/common.js';
import { dns1123Label, dns1123Subdomain, labelValue, qualifiedName } from '../../src/validate/names.js';
import { remembered } from '../../src/validate/remembered.js';

describe('remembered name checks', () => {
  it('run the check once per distinct value (a counter, not a clock)', () => {
    let calls = 0;
    const check = remembered((v) => {
      calls++;
      return v.startsWith('-') ? 'must not start with "-"' : null;
    });
    for (let i = 0; i < 10_000; i++) expect(check(['a', '-b', 'c'][i % 3]!)).toBe(i % 3 === 1 ? 'must not start with "-"' : null);
    expect(calls).toBe(3);
  });

  it('keep answering right past the memory limit', () => {
    let calls = 0;
    const check = remembered((v) => {
      calls++;
      return v.endsWith('7') ? 'bad' : null;
    });
    for (let round = 0; round < 2; round++) for (let i = 0; i < 10_000; i++) expect(check(`v${i}`)).toBe(i % 10 === 7 ? 'bad' : null);
    // The first 4096 values are answered from memory the second time; the rest are checked again.
    expect(calls).toBe(10_000 + (10_000 - 4096));
  });

  it('give the answers of the checks they remember', () => {
    for (const value of ['app', 'app.kubernetes.io/name', '-x', 'a/b/c', 'UPPER', 'zone-a', '', 'node_1', 'x'.repeat(300)]) {
      expect(labelKey(value), value).toBe(qualifiedName(value));
      expect(nodeName(value), value).toBe(dns1123Subdomain(value));
      expect(zoneName(value), value).toBe(labelValue(value));
      expect(namespaceName(value), value).toBe(dns1123Label(value));
    }
  });
});
