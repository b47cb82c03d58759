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
  return printable(`${prefix}${parts.join(': ')}: ${d.message}`);
}

/**
 * Every part of a line can quote user text (a kind, a name, a map key, a file
 * name), and JSON.stringify leaves some characters raw. Escape what could end
 * the line or redraw the terminal: C0 and C1 controls, DEL, the Unicode line
 * and paragraph separators and the bidirectional overrides.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Thrown by the pure core when input is invalid; carries every problem found. */
export class InputError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
  }
}
