// Builds dist/ once before the tests that run bin/kpc as a subprocess, and
// only when a source file is newer than its compiled output, so a run on a
// fresh build costs a few file stats rather than a full tsc. bin/kpc runs the
// bundle dist/kpc.mjs, made again whenever dist/ changed.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BUNDLE, bundle } from '../../scripts/bundle.mjs';

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The first source whose dist/*.js is missing or older, or null when dist/ is fresh. */
function staleSource(): string | null {
  const config = statSync(join(ROOT, 'tsconfig.json')).mtimeMs;
  for (const source of sources(join(ROOT, 'src'))) {
    const output = join(ROOT, 'dist', relative(join(ROOT, 'src'), source).replace(/\.ts$/, '.js'));
    if (!existsSync(output)) return source;
    const built = statSync(output).mtimeMs;
    if (built < statSync(source).mtimeMs || built < config) return source;
  }
  return null;
}

export default async function setup(): Promise<void> {
  if (staleSource() !== null) compile();
  if (!existsSync(BUNDLE) || statSync(BUNDLE).mtimeMs < newestOutput(join(ROOT, 'dist'))) await bundle();
}

/** The newest modification time of the modules tsc wrote (the bundle itself aside). */
function newestOutput(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return Math.max(newest, newestOutput(path));
    return entry.name.endsWith('.js') ? Math.max(newest, statSync(path).mtimeMs) : newest;
  }, 0);
}

function compile(): void {
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT], { cwd: ROOT, stdio: 'pipe' });
  } catch (error) {
    // tsc still writes dist/ on type errors (noEmitOnError is off); reporting
    // those is `npm run typecheck`'s job. Only a build bin/kpc cannot start
    // from is fatal here.
    const output = (error as { stdout?: Buffer }).stdout?.toString() || String(error);
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error(`tsc -p . failed, so bin/kpc cannot be tested:\n${output}`);
    process.stderr.write(`warning: tsc -p . reported errors; testing bin/kpc as emitted:\n${output}\n`);
  }
}
