// The picture command at scale, for `npm run bench`: for generated clusters of
// 100 / 300 / 1,000 service ports, the time of `kpc graph --format dot`, of
// Graphviz's `dot -Tsvg` on that text (killed past a budget), and of
// `kpc graph --format svg`, which refuses pictures past --max-boxes at once.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCluster } from './generate-cluster.js';

export interface GraphTime {
  servicePorts: number;
  boxes: number;
  kpcDotMs: number;
  /** Graphviz's layout of kpc's DOT into SVG, or null when it passed the budget (killed). */
  graphvizSvgMs: number | null;
  graphvizBudgetMs: number;
  /** kpc graph --format svg with the default bound: exit status and time. */
  kpcSvg: { exitCode: number | null; ms: number };
}

function run(cmd: string, args: string[], input: string | null, timeoutMs: number): Promise<{ code: number | null; stdout: string; ms: number; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    let stdout = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, ms: Number(process.hrtime.bigint() - t0) / 1e6, killed });
    });
    child.stdin.end(input ?? '');
  });
}

export async function graphTimes(root: string, dir: string, sizes: number[], budgetMs: number, log: (text: string) => void): Promise<GraphTime[]> {
  const kpc = join(root, 'bin', 'kpc');
  const results: GraphTime[] = [];
  for (const servicePorts of sizes) {
    const cluster = generateCluster({ servicePorts, endpointsPerPort: 10, seed: 5 });
    const input = join(dir, `graph-${servicePorts}.yaml`);
    writeFileSync(input, cluster.text);
    const flags = ['-f', input, '--node-name', cluster.node.name, '--node-ip', cluster.node.ip, '--cluster-cidr', cluster.node.clusterCIDR, '--max-boxes', '1000000'];
    const dot = await run(process.execPath, [kpc, 'graph', ...flags, '--format', 'dot'], null, 300_000);
    const boxes = (dot.stdout.match(/^\s+n\d+ \[label=/gm) ?? []).length;
    const layout = await run('dot', ['-Tsvg'], dot.stdout, budgetMs);
    const bounded = await run(process.execPath, [kpc, 'graph', ...flags.slice(0, -2), '--format', 'svg'], null, budgetMs);
    const result: GraphTime = {
      servicePorts,
      boxes,
      kpcDotMs: Math.round(dot.ms),
      graphvizSvgMs: layout.killed || layout.code !== 0 ? null : Math.round(layout.ms),
      graphvizBudgetMs: budgetMs,
      kpcSvg: { exitCode: bounded.killed ? null : bounded.code, ms: Math.round(bounded.ms) },
    };
    log(`graph ${servicePorts} ports: ${boxes} boxes, kpc dot ${result.kpcDotMs} ms, Graphviz svg ${result.graphvizSvgMs === null ? `> ${budgetMs} ms (killed)` : `${result.graphvizSvgMs} ms`}, kpc --format svg exit ${result.kpcSvg.exitCode} in ${result.kpcSvg.ms} ms`);
    results.push(result);
  }
  return results;
}
