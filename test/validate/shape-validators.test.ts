import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED, generateValidators } from '../../scripts/compile-schemas.mjs';
import { firstDifference } from '../../scripts/write-generated.mjs';

/**
 * kpc runs validators ajv compiled from schemas/ when kpc was built. If a
 * schema changed and they were not compiled again, kpc would check the old
 * shape; this fails first.
 */
describe('src/validate/shape-validators.generated.ts', () => {
  it('is what scripts/compile-schemas.mjs makes of schemas/ now (run npm run schemas if not)', () => {
    // toBe on 150 kB would print both; say which line differs instead.
    expect(firstDifference(readFileSync(GENERATED, 'utf8'), generateValidators(), 'run npm run schemas')).toBe('up to date');
  });
});
