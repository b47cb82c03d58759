// Incremental apply (issue 17): at N service ports, in a throwaway network
// namespace kpc-bench-<pid>-inc, per row (iptables, nftables in kube-proxy's
// layout, nftables in the compact layout):
//   full      `kpc apply --full` of cluster A on an empty namespace (the full load, as before);
//             above --incremental-full-max (iptables and kube-proxy's nftables layout, whose
//             full loads take minutes there) A's marked rules, its kept text and Service
//             record are seeded straight into the namespace instead: what a full apply leaves;
//   step      one endpoint changed (cluster B), applyGraph in this process after compiling:
//             reading the marker, planning, checking, committing (the target: under 1 s);
//   apply     the whole `kpc apply` (bin/kpc, B back to A: one endpoint changed again);
//   generate  `kpc generate` of the same input, for the 1.5x target.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCluster } from './generate-cluster.js';

export type Row = { mode: 'iptables' } | { mode: 'nftables'; layout: 'kube-proxy' | 'compact' };
const ROWS: Row[] = [{ mode: 'iptables' }, { mode: 'nftables', layout: 'kube-proxy' }, { mode: 'nftables', layout: 'compact' }];
const rowName = (row: Row) => (row.mode === 'iptables' ? 'iptables' : `nftables ${row.layout}`);

export interface IncrementalResult {
  mode: 'iptables' | 'nftables';
  layout?: 'kube-proxy' | 'compact';
  servicePorts: number;
  status: 'measured' | 'skipped' | 'failed';
  reason?: string;
  fullApplyMs?: number;
  /** When kpc apply --full failed (e.g. its --test timed out): why, and how long seeding A's marked rules straight into the kernel took instead. */
  fullApplyFailed?: string;
  /** kpc apply --full was not run (above --incremental-full-max): A was seeded straight into the kernel. */
  seeded?: boolean;
  seedMs?: number;
  /** applyGraph after compiling, per step (lock, read and check, commit...) and in all. */
  stepMs?: number;
  stepTimings?: Record<string, number>;
  applied?: string[];
  cliApplyMs?: number;
  cliGenerateMs?: number;
}

/** A changed endpoint: the first slice address, moved to an address no generated pod has. */
export function oneEndpointChanged(text: string): string {
  const match = /(addresses:\s*\n\s*- "?)(\d+\.\d+\.\d+\.\d+)/.exec(text);
  if (!match) throw new Error('no endpoint address found in the generated cluster');
  return text.slice(0, match.index) + match[1] + '10.255.255.254' + text.slice(match.index + match[0].length);
}

function wall(argv: string[], env: NodeJS.ProcessEnv = {}): { ms: number; stdout: string } {
  const t = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${argv.slice(0, 8).join(' ')} ... exit ${r.status}: ${String(r.stderr).slice(0, 400)}`);
  return { ms, stdout: r.stdout };
}

export async function incrementalApply(
  root: string,
  dir: string,
  sizes: number[],
  opts: { nftFullLimit: number; fullApplyMax: number; rows?: string[]; available: boolean; why: string },
  log: (s: string) => void,
): Promise<IncrementalResult[]> {
  const results: IncrementalResult[] = [];
  const { compileGraph } = await import('../src/compile.js');
  const { applyGraph, netnsTarget } = await import('../src/apply/index.js');
  const { emit } = await import('../src/compile.js');
  const generation = await import('../src/apply/generation.js');
  const records = await import('../src/apply/service-record.js');
  const bin = join(root, 'bin', 'kpc');
  for (const n of sizes) {
    const cluster = generateCluster({ servicePorts: n, endpointsPerPort: 10 });
    const fileA = join(dir, `inc-${n}-A.yaml`);
    const fileB = join(dir, `inc-${n}-B.yaml`);
    writeFileSync(fileA, cluster.text);
    const textB = oneEndpointChanged(cluster.text);
    writeFileSync(fileB, textB);
    const nodeArgs = ['--node-name', cluster.node.name, '--node-ip', cluster.node.ip, '--cluster-cidr', cluster.node.clusterCIDR];
    for (const row of ROWS.filter((r) => !opts.rows || opts.rows.includes(r.mode === 'iptables' ? 'iptables' : r.layout))) {
      const { mode } = row;
      const layout = row.mode === 'nftables' ? row.layout : undefined;
      const name = rowName(row);
      const layoutArgs = layout ? ['--layout', layout] : [];
      const result: IncrementalResult = { mode, ...(layout ? { layout } : {}), servicePorts: n, status: 'skipped' };
      results.push(result);
      if (!opts.available) {
        result.reason = opts.why;
        continue;
      }
      if (mode === 'nftables' && n > opts.nftFullLimit) {
        result.reason = `nftables rows measured up to --incremental-nft-max ${opts.nftFullLimit}`;
        continue;
      }
      const ns = `kpc-bench-${process.pid}-inc`;
      const runDir = mkdtempSync(join(dir, 'run-'));
      execFileSync('ip', ['netns', 'add', ns]);
      try {
        const inNs = (args: string[]) => ['ip', 'netns', 'exec', ns, process.execPath, bin, ...args];
        const compileOptions = { nodeName: cluster.node.name, nodeIPs: [cluster.node.ip], clusterCIDRs: [cluster.node.clusterCIDR] };
        // Seed what a full apply leaves (A with its marker, the kept text and its Service record), straight into the kernel.
        const seed = async () => {
          const graphA = compileGraph([{ name: fileA, text: cluster.text }], compileOptions).graph;
          const a = emit(graphA, { mode, family: 4, layout });
          const hash = generation.textHash(a);
          const marked = mode === 'iptables' ? generation.withIptablesMarker(a, hash) : a + generation.nftMarkerAdd('ip', 'kube-proxy', hash);
          const t0 = performance.now();
          const r = spawnSync('ip', ['netns', 'exec', ns, mode === 'iptables' ? 'iptables-restore' : 'nft', ...(mode === 'iptables' ? ['-w'] : ['-f', '-'])], { input: marked, encoding: 'utf8', maxBuffer: 1 << 30 });
          if (r.status !== 0) throw new Error(`seeding failed: ${r.stderr.slice(0, 300)}`);
          result.seedMs = Math.round(performance.now() - t0);
          const key = mode === 'iptables' ? 'iptables-4' : 'nftables';
          await generation.keepLoaded(runDir, key, a, hash);
          await records.keepServiceRecord(runDir, key, hash, records.serviceRecord(graphA, records.recordFormat(mode, layout), mode === 'iptables' ? [4] : [4, 6]));
        };
        if (n > opts.fullApplyMax && layout !== 'compact') {
          log(`incremental apply ${n} ${name}: seeding A straight into the namespace (above --incremental-full-max ${opts.fullApplyMax})`);
          result.seeded = true;
          await seed();
        } else {
          log(`incremental apply ${n} ${name}: full load (kpc apply --full)`);
          try {
            result.fullApplyMs = Math.round(wall(inNs(['apply', '-q', '--full', '-f', fileA, '--mode', mode, ...layoutArgs, ...nodeArgs]), { KPC_RUN_DIR: runDir }).ms);
          } catch (error) {
            result.fullApplyFailed = (error as Error).message.slice(0, 400);
            log(`incremental apply ${n} ${name}: kpc apply --full failed; seeding the namespace directly`);
            await seed();
          }
        }
        log(`incremental apply ${n} ${name}: one endpoint changed`);
        const graph = compileGraph([{ name: fileB, text: textB }], compileOptions).graph;
        const t = performance.now();
        const report = await applyGraph(graph, { mode, layout, target: netnsTarget(ns), runDir });
        result.stepMs = Math.round(performance.now() - t);
        result.stepTimings = report.timings;
        result.applied = report.applied;
        if (!report.applied.join().includes('incremental')) throw new Error(`the step was not incremental: ${report.applied.join(', ')}`);
        result.cliApplyMs = Math.round(wall(inNs(['apply', '-q', '-f', fileA, '--mode', mode, ...layoutArgs, ...nodeArgs]), { KPC_RUN_DIR: runDir }).ms);
        const out = join(dir, `inc-${n}-${mode}.out`);
        result.cliGenerateMs = Math.round(wall([process.execPath, bin, 'generate', '-q', '-f', fileA, '--mode', mode, ...layoutArgs, ...nodeArgs, '-o', out]).ms);
        rmSync(out, { force: true });
        result.status = 'measured';
      } catch (error) {
        result.status = 'failed';
        result.reason = (error as Error).message;
      } finally {
        spawnSync('ip', ['netns', 'del', ns]);
        rmSync(runDir, { recursive: true, force: true });
      }
    }
  }
  return results;
}

export function incrementalTable(results: IncrementalResult[]): string[] {
  const lines = [
    'Incremental apply: one endpoint changed; full = kpc apply --full on an empty namespace (or A seeded straight into it); step = applyGraph after compiling',
    '(emit, marker, read kept text, plan, count services, check, commit); apply = the whole kpc apply; generate = kpc generate of the same input (targets: step < 1 s, apply <= 1.5 x generate)',
  ];
  for (const r of results) {
    const label = (r.layout ? `${r.mode} ${r.layout}` : r.mode).padEnd(19);
    if (r.status !== 'measured') {
      lines.push(`  ${String(r.servicePorts).padStart(6)} ${label} ${r.status}: ${r.reason}`);
      continue;
    }
    const ratio = r.cliApplyMs! / r.cliGenerateMs!;
    const seeded = `seeded in ${((r.seedMs ?? 0) / 1000).toFixed(1)} s`;
    const full = r.fullApplyMs !== undefined ? `${(r.fullApplyMs / 1000).toFixed(2)} s` : r.seeded ? `(${seeded})` : `FAILED (${seeded}: ${r.fullApplyFailed?.replace(/^.*apply failed: /, '').slice(0, 60)}...)`;
    lines.push(
      `  ${String(r.servicePorts).padStart(6)} ${label} full ${full}  step ${r.stepMs} ms ${r.stepMs! < 1000 ? 'ok' : 'MISS'} (${r.stepMs! - (r.stepTimings?.emit ?? 0)} ms after emit)  apply ${r.cliApplyMs} ms  generate ${r.cliGenerateMs} ms  x${ratio.toFixed(2)} ${ratio <= 1.5 ? 'ok' : 'MISS'}  (${JSON.stringify(r.stepTimings)})`,
    );
  }
  return lines;
}
