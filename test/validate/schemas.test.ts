import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { checkShape, isKnownKind } from '../../src/validate/schemas.js';

/**
 * kpc's validators are compiled from its schemas at build time
 * (scripts/compile-schemas.mjs) without checking them against JSON Schema's
 * meta-schema, so the check is made here, once, for every file under
 * schemas/, with unknown keywords refused too.
 */

const DIR = join(import.meta.dirname, '..', '..', 'schemas');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

describe('schemas/', () => {
  it('holds the schemas kpc reads', () => {
    expect(files).toEqual(expect.arrayContaining(['definitions.json', 'service.json', 'endpointslice.json', 'kubeproxyconfiguration.json']));
  });

  for (const file of files) {
    it(`${file} is a valid JSON Schema`, () => {
      const ajv = new Ajv.default({ allErrors: true, strict: false });
      const schema = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as object;
      expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
    });
  }

  it('uses no unknown keyword (a misspelt "maximum" would check nothing)', () => {
    const ajv = new Ajv.default({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
    const load = (file: string) => JSON.parse(readFileSync(join(DIR, file), 'utf8')) as object;
    ajv.addSchema(load('definitions.json'));
    for (const file of files.filter((f) => f !== 'definitions.json')) expect(() => ajv.compile(load(file)), file).not.toThrow();
  });

  it("every kind's schema compiles and rejects an empty object", () => {
    for (const kind of ['Service', 'EndpointSlice', 'Endpoints', 'Pod', 'Node', 'KubeProxyConfiguration']) {
      expect(isKnownKind(kind)).toBe(true);
      expect(checkShape(kind as never, {}).length, kind).toBeGreaterThan(0);
    }
    expect(isKnownKind('toString')).toBe(false);
  });
});
