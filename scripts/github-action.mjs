#!/usr/bin/env node
// The script behind action.yml: validates the manifests at the pull request's
// head (annotating its lines), and writes to the job summary what the change
// does to one node's rules: `kpc diff` between the manifests at the base and
// at the head commit. Programs run with argument arrays, never a shell.
//
// Inputs come as environment variables (action.yml sets them):
//   KPC_PATHS       manifest files or folders, whitespace-separated, relative to the repository
//   KPC_MODE        iptables, ipvs or nftables (default nftables)
//   KPC_NODE_FLAGS  node flags for kpc, whitespace-separated (--node-name a --node-ip 192.0.2.10 ...)
//   KPC_SIMULATE    "true" to pass --simulate (rendered charts without cluster IPs)
//   KPC_BASE        the base commit; empty: validate only
//   KPC_HEAD        the head commit (default HEAD)
//   KPC_BIN         the kpc to run (default: bin/kpc beside this script)
//   GITHUB_STEP_SUMMARY  the file the summary is appended to (GitHub sets it)
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const words = (text) => (text ?? '').split(/\s+/).filter(Boolean);
const env = process.env;
const kpcBin = env.KPC_BIN || join(import.meta.dirname, '..', 'bin', 'kpc');
const paths = words(env.KPC_PATHS);
const mode = env.KPC_MODE || 'nftables';
const nodeFlags = [...words(env.KPC_NODE_FLAGS), ...(env.KPC_SIMULATE === 'true' ? ['--simulate'] : [])];
const head = env.KPC_HEAD || 'HEAD';

function kpc(args) {
  const run = spawnSync(process.execPath, [kpcBin, ...args], { encoding: 'utf8', env: { ...env, NO_COLOR: '1' } });
  return { status: run.status ?? 1, stdout: run.stdout ?? '', stderr: run.stderr ?? '' };
}

/** The given paths as they are at `rev`, in a new folder (paths missing there are left out). */
function checkout(rev, into) {
  mkdirSync(into, { recursive: true });
  const present = paths.filter((path) => spawnSync('git', ['cat-file', '-e', `${rev}:${path.replace(/\/$/, '')}`]).status === 0);
  if (present.length === 0) return into;
  const tar = execFileSync('git', ['archive', '--format=tar', rev, '--', ...present], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', into], { input: tar });
  return into;
}

function fence(text) {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const marks = '`'.repeat(longest + 1);
  return `${marks}\n${text.trimEnd()}\n${marks}\n`;
}

function main() {
  if (paths.length === 0) {
    console.error('kpc action: set the paths input to the manifest files or folders to check');
    return 2;
  }
  const summary = ['## kpc\n'];
  const validation = kpc(['validate', '--format', 'github', ...(env.KPC_SIMULATE === 'true' ? ['--simulate'] : []), ...paths]);
  process.stdout.write(validation.stdout);
  process.stderr.write(validation.stderr);
  const lastLine = validation.stdout.trimEnd().split('\n').at(-1) ?? '';
  summary.push(`**validate** (${paths.join(', ')} at \`${head}\`): ${validation.status === 0 ? 'valid' : 'problems found'}. ${lastLine}\n`);
  let status = validation.status === 0 ? 0 : 1;
  if (env.KPC_BASE) {
    const work = mkdtempSync(join(tmpdir(), 'kpc-action-'));
    try {
      const base = checkout(env.KPC_BASE, join(work, 'base'));
      const after = checkout(head, join(work, 'head'));
      const stat = kpc(['diff', base, after, '--mode', mode, ...nodeFlags, '--stat']);
      const diff = kpc(['diff', base, after, '--mode', mode, ...nodeFlags]);
      summary.push(`\n**${mode} rules** for this node, \`${env.KPC_BASE}\` → \`${head}\`:\n\n`);
      if (diff.status === 0) summary.push('No change to the data plane.\n');
      else if (diff.status === 1) summary.push(`${stat.stdout.trim()}\n\n${fence(diff.stdout)}`);
      else {
        summary.push(`kpc diff could not compare them:\n\n${fence(diff.stderr || diff.stdout)}`);
        status = 1;
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, summary.join(''));
  else process.stdout.write(summary.join(''));
  return status;
}

process.exitCode = main();
