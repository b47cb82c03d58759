/** A problem found in the input, with as much position as kpc can give. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  /** The input's name as the user gave it ('-' for stdin). */
  file: string;
  /** 1-based line, or null where no position is known. */
  line: number | null;
  /** `Kind namespace/name`, or null for problems that are not about one object. */
  object: string | null;
  /** Dotted field path such as `spec.ports[1].port`, or null. */
  field: string | null;
  message: string;
}

/** `FILE:LINE: KIND NAMESPACE/NAME: FIELD.PATH: what is wrong`, leaving out what is unknown. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line === null ? d.file : `${d.file}:${d.line}`;
  const parts = [where];
  if (d.object) parts.push(d.object);
  if (d.field) parts.push(d.field);
  const prefix = d.severity === 'warning' ? 'warning: ' : '';
  return `${prefix}${parts.join(': ')}: ${printable(d.message)}`;
}

/** Messages quote user values; keep control characters from reaching the terminal raw. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Thrown by the pure core when input is invalid; carries every problem found. */
export class InputError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
  }
}
