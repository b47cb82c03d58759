import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { locateField } from '../load/locate.js';
import type { LoadedObject } from '../load/source.js';

export type FieldPath = (string | number)[];

/** Most objects have no problems at all, so they share one empty (frozen) list of repeats. */
const NO_REPEATS: readonly FieldPath[] = Object.freeze([]);

/** Collects the problems of one object, each with its file, line, object and field. */
export class ObjectReporter {
  /**
   * The object's label, made when the first problem is reported: most objects
   * have none, and formatting a label for each of 100,000 objects was a tenth
   * of validation.
   */
  private label: string | null | undefined;
  /** What the object said of itself before validation defaulted anything, so a late label is the early one. */
  private readonly identity: ObjectIdentity;

  constructor(
    private readonly loaded: LoadedObject,
    readonly diagnostics: Diagnostic[] = [],
    /** Fields already reported on: whatever is said about them, or inside them, is a repeat. */
    private readonly repeats: readonly FieldPath[] = NO_REPEATS,
    identity?: ObjectIdentity,
    /** The namespace validation gives a namespaced object that names none (-n). */
    defaultNamespace = 'default',
  ) {
    this.identity = identity ?? identityOf(loaded.value, defaultNamespace);
  }

  /** A reporter into the same list that stays quiet about the given fields and what lies inside them. */
  ignoring(fields: FieldPath[]): ObjectReporter {
    return new ObjectReporter(this.loaded, this.diagnostics, [...this.repeats, ...fields], this.identity);
  }

  error(path: FieldPath, message: string): void {
    this.add('error', path, message);
  }

  warning(path: FieldPath, message: string): void {
    this.add('warning', path, message);
  }

  /**
   * A warning whose line is looked up only when read: a warning per object of
   * a kind kpc does not read is summed up by kind unless -v, and finding the
   * line of each of 30,000 such objects was most of the time spent on them.
   */
  lazyWarning(path: FieldPath, message: string): void {
    if (this.isRepeat(path)) return;
    const { origin } = this.loaded;
    let line: number | null | undefined;
    const diagnostic = { severity: 'warning', file: origin.source.name, line: null, object: (this.label ??= labelOf(this.identity)), field: path.length ? formatPath(path) : null, message } as Diagnostic;
    Object.defineProperty(diagnostic, 'line', { enumerable: true, get: () => (line === undefined ? (line = locateField(origin, path)) : line) });
    this.diagnostics.push(diagnostic);
  }

  private isRepeat(path: FieldPath): boolean {
    return this.repeats.some((field) => field.length <= path.length && field.every((part, i) => part === path[i]));
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
      object: (this.label ??= labelOf(this.identity)),
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

const NAMESPACED = new Set(['Service', 'EndpointSlice', 'Endpoints', 'Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'ReplicationController']);

/** An object's kind, name and namespace as it gave them, whatever their types. */
interface ObjectIdentity {
  kind: unknown;
  name: unknown;
  namespace: unknown;
  defaultNamespace: string;
  isObject: boolean;
}

function identityOf(value: unknown, defaultNamespace: string): ObjectIdentity {
  if (typeof value !== 'object' || value === null) return { kind: undefined, name: undefined, namespace: undefined, defaultNamespace, isObject: false };
  const { kind, metadata } = value as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  return { kind, name: metadata?.name, namespace: metadata?.namespace, defaultNamespace, isObject: true };
}

/** `Service default/web` from whatever the object says of itself, quoted when it is not a plain name. */
function labelOf({ kind, name: givenName, namespace: givenNamespace, defaultNamespace, isObject }: ObjectIdentity): string | null {
  if (!isObject) return null;
  const kindText = typeof kind === 'string' ? kind : 'object';
  const name = typeof givenName === 'string' ? givenName : null;
  const given = typeof givenNamespace === 'string' && givenNamespace !== '' ? givenNamespace : null;
  // Left out, a namespaced object's namespace is -n's or "default", as kubectl would put it.
  const namespace = given ?? (NAMESPACED.has(kindText) ? defaultNamespace : null);
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
