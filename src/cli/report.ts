import { formatDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.js';

/** Prints diagnostics to stderr, one line each, errors and warnings alike. */
export function printDiagnostics(diagnostics: Diagnostic[]): void {
  for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
}

export function printLine(text: string): void {
  process.stderr.write(`${text}\n`);
}

/**
 * An input with no object at all compiles to an empty rule set, which looks
 * like any other output: say so, so an empty file or a dump that came out
 * empty is noticed. Not an error: an empty rule set can be what is meant.
 */
export function warnIfNoObjects(checked: number): void {
  if (checked === 0) printLine('kpc: warning: no objects in the input: what -f gave holds only empty documents or comments');
}
