import { formatDiagnostic, printable, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { GraphResult } from '../compile.js';
import { UNREAD_KIND } from '../validate/index.js';

/**
 * Prints diagnostics to stderr, one line each, errors and warnings alike;
 * objects of kinds kpc does not read are summed up in one line per kind
 * unless `verbose` (a chart's CRDs and ConfigMaps would bury what matters).
 */
export function printDiagnostics(diagnostics: Diagnostic[], verbose = false): void {
  const unread = new Map<string, number>();
  for (const d of diagnostics) {
    const kind = verbose ? null : unreadKind(d);
    if (kind === null) process.stderr.write(`${formatDiagnostic(d)}\n`);
    else unread.set(kind, (unread.get(kind) ?? 0) + 1);
  }
  for (const [kind, count] of unread) {
    const objects = count === 1 ? '1 object' : `${count} objects`;
    printLine(printable(`warning: ${objects} of kind ${kind} skipped: not a kind kpc reads (-v lists each)`));
  }
}

/** The quoted kind of an "is not a kind kpc reads" warning, or null for any other diagnostic. */
function unreadKind(d: Diagnostic): string | null {
  if (d.severity !== 'warning' || d.field !== 'kind' || !d.message.endsWith(UNREAD_KIND)) return null;
  return d.message.slice(0, -UNREAD_KIND.length);
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

/** Services the graph skipped for want of a cluster IP: manifests from git rather than a live cluster. */
export function unallocatedServices(result: GraphResult): number {
  return result.graph.skipped.filter((s) => s.reason.startsWith('no clusterIP')).length;
}

/**
 * What a compile needs to say besides diagnostics: with --simulate and -v,
 * every allocation and placement; without --simulate, one line when
 * Services were skipped for want of a cluster IP, so an empty rule set is
 * never a silent success.
 */
export function printSimulation(result: GraphResult, verbose: boolean): void {
  if (result.simulated) {
    if (verbose) for (const note of result.simulated) printLine(printable(`simulated: ${note}`));
    return;
  }
  const missing = unallocatedServices(result);
  if (missing) printLine(simulateHint(missing));
}

export function simulateHint(missing: number): string {
  const services = missing === 1 ? '1 Service has' : `${missing} Services have`;
  return `${services} no cluster IP and got no rules; add --simulate to allocate addresses and make pods of Deployments, StatefulSets and DaemonSets as a cluster would`;
}
