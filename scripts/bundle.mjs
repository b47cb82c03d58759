#!/usr/bin/env node
// Bundles dist/cli/main.js and everything it imports (kpc's modules and its
// runtime dependencies) into dist/kpc.mjs, which bin/kpc runs. One file
// instead of some 150 modules: node resolves, reads and compiles them one by
// one, and that was 0.15-0.2 s of every run, more than the whole compile of
// a small cluster. Commands stay lazily loaded: esbuild keeps each dynamic
// import() as code that runs only when the command is asked for.
//
//   node scripts/bundle.mjs   (npm run build runs it after tsc)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
export const ENTRY = join(ROOT, 'dist', 'cli', 'main.js');
export const BUNDLE = join(ROOT, 'dist', 'kpc.mjs');

/** Bundles `entry` (a module under dist/) into `outfile`; bench/ uses it for its own entry of the CLI's steps. */
export async function bundle(entry = ENTRY, outfile = BUNDLE) {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'linked',
    logLevel: 'warning',
    // kpc --version says what package.json says, written nowhere else.
    define: { KPC_VERSION: JSON.stringify(version) },
    // CommonJS dependencies (commander, ipaddr.js) call require() for node's own modules, which an ES module lacks.
    banner: { js: "import { createRequire as kpcCreateRequire } from 'node:module';\nconst require = kpcCreateRequire(import.meta.url);" },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await bundle();
