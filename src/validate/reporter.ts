import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { locateField } from '../load/locate.js';
import type { LoadedObject } from '../load/source.js';

export type FieldPath = (string | number)[];

/** Collects the problems of one object, each with its file, line, object and field. */
export class ObjectReporter {
  constructor(
    private readonly loaded: LoadedObject,
    private readonly label: string | null,
    readonly diagnostics: Diagnostic[] = [],
    /** Fields already reported on: whatever is said about them, or inside them, is a repeat. */
    private readonly repeats: FieldPath[] = [],
  ) {}

  /** A reporter into the same list that stays quiet about the given fields and what lies inside them. */
  ignoring(fields: FieldPath[]): ObjectReporter {
    return new ObjectReporter(this.loaded, this.label, this.diagnostics, [...this.repeats, ...fields]);
  }

  error(path: FieldPath, message: string): void {
    this.add('error', path, message);
  }

  warning(path: FieldPath, message: string): void {
    this.add('warning', path, message);
  }

  get failed(): boolean {
    return this.diagnostics.some((d) => d.severity === 'error');
  }

  private add(severity: Diagnostic['severity'], path: FieldPath, message: string): void {
    if (this.repeats.some((field) => field.length <= path.length && field.every((part, i) => part === path[i]))) return;
    this.diagnostics.push({
      severity,
      file: this.loaded.origin.source.name,
      line: locateField(this.loaded.origin, path),
      object: this.label,
      field: path.length ? formatPath(path) : null,
      message,
    });
  }
}

/** `['spec', 'ports', 1, 'port']` → `spec.ports[1].port`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${quoted(part)}]`;
  }
  return out;
}

const NAMESPACED = new Set(['Service', 'EndpointSlice', 'Endpoints', 'Pod']);

/** `Service default/web` from whatever the object says of itself, quoted when it is not a plain name. */
export function objectLabel(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const { kind, metadata } = value as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const kindText = typeof kind === 'string' ? kind : 'object';
  const name = typeof metadata?.name === 'string' ? metadata.name : null;
  const given = typeof metadata?.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : null;
  // Left out, a namespaced object's namespace is "default", as kubectl would put it.
  const namespace = given ?? (NAMESPACED.has(kindText) ? 'default' : null);
  if (name === null) return kindText;
  const id = namespace === null || kindText === 'Node' ? name : `${namespace}/${name}`;
  const plain = /^[a-z0-9.\-/]+$/.test(id) && id.length <= QUOTED_MAX;
  return `${quoted(kindText, false)} ${plain ? id : quoted(id)}`;
}

/** Longer than any valid namespace/name pair (63 + 1 + 253). */
const QUOTED_MAX = 320;

/**
 * A user value as a message quotes it: in JSON quotes (so a quote, a space or
 * a newline in it shows), and cut short when longer than any valid name, so a
 * hostile 100 000 character name still makes one readable line. With
 * `always` false, a plain word is left bare.
 */
export function quoted(value: string, always = true): string {
  if (!always && /^[A-Za-z0-9]+$/.test(value) && value.length <= QUOTED_MAX) return value;
  if (value.length <= QUOTED_MAX) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, 100))}... (${value.length} characters)`;
}
