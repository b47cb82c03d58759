import { FAILSAFE_SCHEMA, Type, type Schema } from 'js-yaml';
import { FloatScalar, resolvePlainScalar } from './kubectl-scalars.js';

/**
 * The js-yaml schema for the documents kpc's block reader leaves to js-yaml:
 * plain scalars resolved as kubectl resolves them (kubectl-scalars.ts), and
 * the explicit tags go-yaml v2 resolves (!!str, !!int, !!float, !!bool,
 * !!null, !!map, !!seq, and `<<` merge keys). Other tags (!!binary,
 * !!timestamp, !!set, custom ones) are errors, as js-yaml reports unknown tags.
 */

/** The last plain scalar resolved, so that construct does not resolve it again. */
let lastText: string | null = null;
let lastValue: unknown = null;

function resolved(text: string): unknown {
  if (text !== lastText) {
    lastValue = resolvePlainScalar(text);
    lastText = text;
  }
  return lastValue;
}

const plain = new Type('tag:kpc,2026:kubectl-plain', {
  kind: 'scalar',
  resolve: (text: string) => typeof resolved(text) !== 'string',
  construct: (text: string) => resolved(text),
});

/** An explicit tag: go-yaml resolves the text and requires the tag's kind (an integer is also a float). */
function explicit(tag: string, accepts: (value: unknown) => boolean, construct: (value: unknown, text: string) => unknown = (value) => value): Type {
  return new Type(`tag:yaml.org,2002:${tag}`, {
    kind: 'scalar',
    resolve: (text: string | null) => accepts(resolvePlainScalar(text ?? '')),
    construct: (text: string | null) => construct(resolvePlainScalar(text ?? ''), text ?? ''),
  });
}

const isInteger = (value: unknown): boolean => typeof value === 'number';

const merge = new Type('tag:yaml.org,2002:merge', { kind: 'scalar', resolve: (text: string | null) => text === '<<' || text === null });

export const KUBECTL_SCHEMA: Schema = FAILSAFE_SCHEMA.extend({
  implicit: [merge, plain],
  explicit: [
    explicit('null', (value) => value === null),
    explicit('bool', (value) => typeof value === 'boolean'),
    explicit('int', isInteger),
    explicit('float', (value) => value instanceof FloatScalar || isInteger(value), (value, text) => (value instanceof FloatScalar ? value : new FloatScalar(value as number, text))),
  ],
});
