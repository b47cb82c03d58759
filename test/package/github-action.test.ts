import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/cli.js';

/**
 * action.yml's script, run as the action runs it, in a repository of two
 * commits: the bundled example, then a change to it.
 */
const repo = mkdtempSync(join(tmpdir(), 'kpc-action-repo-'));
afterAll(() => rmSync(repo, { recursive: true, force: true }));
const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=kpc test', '-c', 'user.email=test@example.invalid', ...args], { cwd: repo, encoding: 'utf8' }).trim();

git('init', '-q');
cpSync(join(ROOT, 'examples', 'shop'), join(repo, 'k8s'), { recursive: true });
git('add', '-A');
git('commit', '-qm', 'base');
const base = git('rev-parse', 'HEAD');
const services = join(repo, 'k8s', 'services.yaml');
writeFileSync(services, readFileSync(services, 'utf8').replace('      port: 8080\n      targetPort: 8080\n      nodePort: 30880', '      port: 8081\n      targetPort: 8080\n      nodePort: 30880'));
git('commit', '-qam', 'api moves to port 8081');
const head = git('rev-parse', 'HEAD');

function action(env: Record<string, string>) {
  const summary = join(repo, '..', `summary-${process.pid}-${Math.random()}.md`);
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'github-action.mjs')], {
    cwd: repo,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, KPC_BIN: BIN, GITHUB_STEP_SUMMARY: summary, KPC_PATHS: 'k8s', KPC_MODE: 'nftables', KPC_NODE_FLAGS: '--node-name node-a --node-ip 192.0.2.10 --cluster-cidr 10.244.0.0/16', ...env },
  });
  let text = '';
  try {
    text = readFileSync(summary, 'utf8');
    rmSync(summary);
  } catch {
    // No summary written.
  }
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, summary: text };
}

describe('the GitHub Action script', () => {
  it('writes the data-plane change between base and head to the job summary', () => {
    const run = action({ KPC_BASE: base, KPC_HEAD: head });
    expect(run.status, run.stderr).toBe(0);
    expect(run.summary).toContain('**validate** (k8s at `' + head + '`): valid.');
    expect(run.summary).toContain(`**nftables rules** for this node, \`${base}\` → \`${head}\``);
    expect(run.summary).toMatch(/shop\/api:http[\s\S]*10\.96\.0\.20:8080[\s\S]*10\.96\.0\.20:8081/);
    expect(run.summary).not.toMatch(/shop\/web/);
  });

  it('says there is no change when the rules are the same', () => {
    const run = action({ KPC_BASE: head, KPC_HEAD: head });
    expect(run.status).toBe(0);
    expect(run.summary).toContain('No change to the data plane.');
  });

  it('annotates a problem at the head and fails the step', () => {
    writeFileSync(services, readFileSync(services, 'utf8').replace('port: 8081', 'port: 80810'));
    git('commit', '-qam', 'a bad port');
    const bad = git('rev-parse', 'HEAD');
    const run = action({ KPC_BASE: head, KPC_HEAD: bad });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^::error file=k8s\/services\.yaml,line=\d+,title=kpc%3A Service shop\/api%3A spec\.ports\[0\]\.port::/m);
    expect(run.summary).toContain('problems found');
  });
});
