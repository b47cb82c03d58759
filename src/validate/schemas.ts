import type { ErrorObject } from 'ajv';
import { FloatScalar } from '../load/kubectl-scalars.js';
import type { FieldPath } from './reporter.js';
import * as generated from './shape-validators.generated.js';

/** A validator ajv compiled from schemas/ at build time (scripts/compile-schemas.mjs). */
type ShapeValidator = ((value: unknown) => boolean) & { errors?: ErrorObject[] | null };

/**
 * The kinds kpc reads, and the validator that checks each one's shape. They
 * are compiled when kpc is built, not when it starts: compiling three schemas
 * cost more than validating a small input. The schemas are checked against
 * JSON Schema's meta-schema by the tests (test/validate/schemas.test.ts).
 */
const VALIDATORS = {
  Service: generated.Service as ShapeValidator,
  EndpointSlice: generated.EndpointSlice as ShapeValidator,
  Endpoints: generated.Endpoints as ShapeValidator,
  Pod: generated.Pod as ShapeValidator,
  Node: generated.Node as ShapeValidator,
  ServiceCIDR: generated.ServiceCIDR as ShapeValidator,
  KubeProxyConfiguration: generated.KubeProxyConfiguration as ShapeValidator,
} as const;

export type KnownKind = keyof typeof VALIDATORS;

export function isKnownKind(kind: string): kind is KnownKind {
  return Object.hasOwn(VALIDATORS, kind);
}

export interface SchemaProblem {
  path: FieldPath;
  message: string;
}

/** Checks an object's shape; returns one problem per wrong field, in words a user can act on. */
export function checkShape(kind: KnownKind, value: unknown): SchemaProblem[] {
  const validate = VALIDATORS[kind];
  if (validate(value)) return [];
  return dedupe((validate.errors ?? []).map(describe));
}

export function describe(error: ErrorObject): SchemaProblem {
  const path: FieldPath = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: [...path, String(params.missingProperty)], message: 'is required' };
    case 'type':
      if (error.data instanceof FloatScalar) return { path, message: floatMessage(String(params.type), error.data) };
      return { path, message: `must be ${article(String(params.type))}, got ${typeName(error.data)} ${shortValue(error.data)}` };
    case 'enum':
      return { path, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}; got ${shortValue(error.data)}` };
    case 'const':
      return { path, message: `must be ${JSON.stringify(params.allowedValue)}; got ${shortValue(error.data)}` };
    case 'minimum':
    case 'maximum':
      return { path, message: rangeMessage(error) };
    case 'additionalProperties':
      return { path: [...path, String(params.additionalProperty)], message: 'is not a known field; remove it or check its spelling' };
    case 'maxItems':
    case 'minItems':
      return { path, message: `${error.message ?? 'has the wrong number of items'}` };
    default:
      return { path, message: error.message ?? 'is not valid' };
  }
}

function rangeMessage(error: ErrorObject): string {
  const schema = error.parentSchema as { minimum?: number; maximum?: number; $ref?: string } | undefined;
  const min = schema?.minimum ?? 1;
  const max = schema?.maximum ?? 65535;
  return `must be an integer from ${min} to ${max}; got ${shortValue(error.data)}`;
}

/**
 * A scalar written as a float (80.0, 1e3, .inf) where the schema wants
 * something else: kubectl's YAML reader and the API server read it as a float
 * too, so say what to write instead.
 */
function floatMessage(type: string, value: FloatScalar): string {
  const number = value.valueOf();
  let hint = '';
  if (type.includes('integer') && Number.isInteger(number)) hint = `; write ${number}`;
  else if (type.includes('string')) hint = `; quote it ("${value.text}") for a string`;
  return `must be ${article(type)}, got ${value.text}, which is a float${hint}`;
}

function article(type: string): string {
  const words = type.split(',').map((t) => (t === 'integer' ? 'an integer' : t === 'object' ? 'an object' : t === 'array' ? 'a list' : `a ${t}`));
  return words.join(' or ');
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value}`;
}

function shortValue(value: unknown): string {
  if (value instanceof FloatScalar) return value.text;
  if (typeof value === 'object' && value !== null) return '';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function dedupe(problems: SchemaProblem[]): SchemaProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = JSON.stringify(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
