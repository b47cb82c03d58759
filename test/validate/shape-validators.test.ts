import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED, generateValidators } from '../../scripts/compile-schemas.mjs';

/**
 * kpc runs validators ajv compiled from schemas/ when kpc was built. If a
 * schema changed and they were not compiled again, kpc would check the old
 * shape; this fails first.
 */
describe('src/validate/shape-validators.generated.ts', () => {
  it('is what scripts/compile-schemas.mjs makes of schemas/ now (run npm run schemas if not)', () => {
    const current = readFileSync(GENERATED, 'utf8');
    // toBe on 150 kB would print both; say which line differs instead.
    const expected = generateValidators();
    const a = current.split('\n');
    const b = expected.split('\n');
    const first = b.findIndex((line, i) => a[i] !== line);
    expect(first === -1 && a.length === b.length ? 'up to date' : `differs from line ${first + 1}: run npm run schemas`).toBe('up to date');
  });
});
