import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED, generateTemplates } from '../../scripts/compile-templates.mjs';
import { firstDifference } from '../../scripts/write-generated.mjs';
import { template } from '../../src/emit/templates.js';

/**
 * kpc runs the templates Handlebars precompiled when kpc was built. A template
 * edited without building again would be ignored; this fails first.
 */
describe('src/emit/templates.generated.ts', () => {
  it('is what scripts/compile-templates.mjs makes of templates/ now (run npm run templates if not)', () => {
    expect(firstDifference(readFileSync(GENERATED, 'utf8'), generateTemplates(), 'run npm run templates')).toBe('up to date');
  });

  it('keeps strict mode: a field the layout names but the data lacks is an error, not an empty string', () => {
    expect(() => template('iptables', 'restore')({ node: 'n', tool: 'iptables-restore', tables: [{}] }, { helpers: { block: () => '' } })).toThrow(/"name" not defined/);
  });

  it('names the template a backend asked for but the build did not include', () => {
    expect(() => template('iptables', 'missing')).toThrow(/no template iptables\/missing: add templates\/iptables\/missing\.hbs/);
  });
});
