import { formatDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.js';

/** Prints diagnostics to stderr, one line each, errors and warnings alike. */
export function printDiagnostics(diagnostics: Diagnostic[]): void {
  for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
}

export function printLine(text: string): void {
  process.stderr.write(`${text}\n`);
}
