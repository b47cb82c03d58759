// Shared by the scripts that turn a source (schemas/, templates/) into a
// committed file under src/: write it when it changed, or with --check only
// say whether it is up to date.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Writes `text` to `path` unless it is already there; with --check in argv, exits 1 when it differs. */
export function writeOrCheck(path, text, howToFix) {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : null;
  if (process.argv.includes('--check')) {
    if (current !== text) {
      process.stderr.write(`${path} is out of date; ${howToFix}\n`);
      process.exit(1);
    }
    return;
  }
  // Rewritten only when it changes, so a build does not make tsc's inputs look newer than they are.
  if (current !== text) writeFileSync(path, text);
}

/** The first line where two texts differ, as a sentence a test can compare to 'up to date'. */
export function firstDifference(current, expected, howToFix) {
  const a = current.split('\n');
  const b = expected.split('\n');
  const first = b.findIndex((line, i) => a[i] !== line);
  return first === -1 && a.length === b.length ? 'up to date' : `differs from line ${first + 1}: ${howToFix}`;
}
