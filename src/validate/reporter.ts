import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { locateField } from '../load/locate.js';
import type { LoadedObject } from '../load/source.js';

export type FieldPath = (string | number)[];

/** Collects the problems of one object, each with its file, line, object and field. */
export class ObjectReporter {
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    private readonly loaded: LoadedObject,
    private readonly label: string | null,
  ) {}

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
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** `Service default/web` from whatever the object says of itself, quoted when it is not a plain name. */
export function objectLabel(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const { kind, metadata } = value as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const kindText = typeof kind === 'string' ? kind : 'object';
  const name = typeof metadata?.name === 'string' ? metadata.name : null;
  const namespace = typeof metadata?.namespace === 'string' ? metadata.namespace : null;
  if (name === null) return kindText;
  const id = namespace === null || kindText === 'Node' ? name : `${namespace}/${name}`;
  return `${kindText} ${/^[a-z0-9.\-/]+$/.test(id) ? id : JSON.stringify(id)}`;
}
