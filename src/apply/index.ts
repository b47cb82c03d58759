import { createTwoFilesPatch } from 'diff';
import { resolve } from 'node:path';
import { diffModels } from '../diff/index.js';
import { readRuleSet, type RuleFormat } from '../read/index.js';
import { formatText } from '../diff/format.js';
import { emit, type NftLayout } from '../compile.js';
import { emitIpvsParts } from '../emit/ipvs/index.js';
import { nftFamilies } from '../emit/nftables/index.js';
import type { IPFamily, RoutingGraph } from '../graph/types.js';
import { familyLabel, prepareIptables, commitIptables, checkIptables, ownedTexts, type IptablesJob } from './apply-iptables.js';
import { commitIpvs, prepareIpvs } from './apply-ipvs.js';
import { commitNft, prepareNft } from './apply-nftables.js';
import { conntrackDeletions, runConntrack, udpFrontends } from './conntrack.js';
import type { ApplyContext, ApplyHooks } from './context.js';
import { ApplyError } from './errors.js';
import { hostTarget, type Scratch, type Target } from './exec.js';
import { sweepPending } from './files.js';
import { describePlan, planIsEmpty } from './ipvs.js';
import { acquireLock, LockBusyError } from './lock.js';
import { Sandbox } from './sandbox.js';
import { readRecord, unionRecord, writeRecord, type ApplyRecord } from './state.js';

export { ApplyError, HostError } from './errors.js';
export type { ApplyHooks } from './context.js';
export { hostTarget, netnsTarget, prefixedExec, type Exec, type ExecResult, type Scratch, type Target } from './exec.js';

export type ApplyMode = 'iptables' | 'nftables' | 'ipvs';

export const DEFAULT_RUN_DIR = '/run/kpc';

export interface ApplyOptions {
  mode: ApplyMode;
  /** nftables mode: which layout to load (a full load either way). */
  layout?: NftLayout;
  /** iptables mode: the families to apply (default: every family the graph uses). */
  families?: IPFamily[];
  /** Read, compare and report; change nothing. */
  dryRun?: boolean;
  /** Where commands run (default: the host). */
  target?: Target;
  /** Lock, record and rule files (default /run/kpc). */
  runDir?: string;
  /** How long to wait for another apply's lock. */
  lockWaitMs?: number;
  hooks?: ApplyHooks;
  /** Told as each step starts, in words (the CLI's progress line). */
  onStep?: (step: string) => void;
}

export interface ApplyReport {
  mode: ApplyMode;
  dryRun: boolean;
  /** The rules differed from what was loaded (in a dry run: would differ). */
  changed: boolean;
  /** What was (or would be) replaced, one item per table set. */
  applied: string[];
  /** Unified diff of kpc's own part, live (---) to wanted (+++); '' when equal. Only in a dry run (it costs time on big rule sets). */
  diff: string;
  /** The same change by meaning (kpc diff's report: frontends and endpoints per service port); '' when none or unreadable. Only in a dry run. */
  semantic: string;
  /** conntrack -D commands run (UDP entries whose endpoint went away). */
  conntrack: string[];
  /** Steps and their milliseconds. */
  timings: Record<string, number>;
}

/**
 * Loads the graph's rules into the target: check first, then replace only
 * kpc's own rules, atomically where the kernel allows, and leave the previous
 * rules in place when anything fails (ApplyError says what failed and what
 * was left). A second apply of the same graph changes nothing and says so.
 */
export async function applyGraph(graph: RoutingGraph, options: ApplyOptions): Promise<ApplyReport> {
  const target = options.target ?? hostTarget();
  const runDir = resolve(options.runDir ?? DEFAULT_RUN_DIR);
  const dryRun = options.dryRun ?? false;
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - t);
    t = now;
  };
  const onStep = options.onStep ?? (() => {});
  if (!dryRun) onStep('waiting for the apply lock');
  const lock = dryRun ? null : await acquireLock(runDir, options.lockWaitMs).catch((error: unknown) => {
    throw error instanceof LockBusyError ? new ApplyError(`${error.message}; nothing was changed`) : error;
  });
  lap('lock');
  try {
    if (lock) await sweepPending(runDir);
    const ctx: ApplyContext = { target, runDir, lock, hooks: options.hooks ?? {} };
    const record = await readRecord(runDir);
    onStep('reading the live rules and checking the new ones');
    const sandbox = await (target.openScratch ? target.openScratch() : Sandbox.open(target)).catch((error: unknown) => {
      throw new ApplyError(`${(error as Error).message}; nothing was changed`);
    });
    let prepared: Prepared;
    try {
      prepared = await prepare(ctx, sandbox, graph, options, record);
    } catch (error) {
      // Reading, generating and checking change nothing: say so whatever failed.
      if (error instanceof ApplyError) throw error;
      throw new ApplyError(`${(error as Error).message}; nothing was changed`);
    } finally {
      sandbox.close();
    }
    lap('read and check');
    const next: ApplyRecord = { version: 1, udp: udpFrontends(graph), ipvsServices: prepared.ipvsServices ?? record.ipvsServices };
    const report: ApplyReport = { mode: options.mode, dryRun, changed: prepared.changed, applied: prepared.describe, diff: '', semantic: '', conntrack: [], timings };
    if (dryRun) {
      if (prepared.changed) Object.assign(report, { diff: prepared.diff(), semantic: prepared.semantic() });
      return report;
    }
    if (prepared.changed) {
      onStep('loading the new rules');
      await writeRecord(runDir, unionRecord(record, next));
      report.applied = await prepared.commit(ctx);
      lap('commit');
    }
    const deletions = conntrackDeletions(record.udp, next.udp);
    if (deletions.length) {
      onStep('deleting stale UDP conntrack entries');
      const { ran, failed } = await runConntrack(target.exec, deletions);
      report.conntrack = ran;
      lap('conntrack');
      if (failed.length) {
        await writeRecord(runDir, unionRecord(record, next));
        throw new ApplyError(`the new rules are in place, but deleting stale UDP conntrack entries failed: ${failed.join('; ')}; UDP clients of removed endpoints may keep sending to them until their entries expire`);
      }
    }
    await writeRecord(runDir, next);
    return report;
  } finally {
    lock?.release();
  }
}

interface Prepared {
  changed: boolean;
  describe: string[];
  diff(): string;
  semantic(): string;
  ipvsServices?: string[];
  commit(ctx: ApplyContext): Promise<string[]>;
}

async function prepare(ctx: ApplyContext, sandbox: Scratch, graph: RoutingGraph, options: ApplyOptions, record: ApplyRecord): Promise<Prepared> {
  switch (options.mode) {
    case 'iptables': {
      const families = options.families ?? nftFamilies(graph);
      const jobs: IptablesJob[] = [];
      for (const family of families) {
        const tool = family === 4 ? 'iptables' : 'ip6tables';
        jobs.push(await prepareIptables(ctx.target, sandbox, family, tool, emit(graph, { mode: 'iptables', family })));
      }
      const changedJobs = jobs.filter((j) => j.restore !== null);
      return {
        changed: changedJobs.length > 0,
        describe: changedJobs.map((j) => j.label),
        diff: () => jobs.map((j) => unified(j.label, ownedTexts(j, 'before'), ownedTexts(j, 'wanted'))).join(''),
        semantic: () => jobs.map((j) => semantic('iptables', j.saved.before, j.saved.wanted)).join(''),
        async commit(c) {
          for (const job of changedJobs) await checkIptables(c, job);
          return commitIptables(c, changedJobs);
        },
      };
    }
    case 'nftables': {
      const job = await prepareNft(ctx.target, sandbox, emit(graph, { mode: 'nftables', family: 4, layout: options.layout }));
      return {
        changed: job.changed,
        describe: job.changed ? ['nftables (table kube-proxy)'] : [],
        diff: () => unified('nftables', job.before, job.wanted),
        semantic: () => semantic('nftables', job.before, job.wanted),
        async commit(c) {
          await commitNft(c, job);
          return ['nftables (table kube-proxy)'];
        },
      };
    }
    case 'ipvs': {
      const job = await prepareIpvs(ctx.target, sandbox, emitIpvsParts(graph), record.ipvsServices);
      const changedTables = job.iptables.filter((j) => j.restore !== null);
      const planText = describePlan(job.plan);
      const changed = !planIsEmpty(job.plan) || changedTables.length > 0;
      return {
        changed,
        describe: [...(planIsEmpty(job.plan) ? [] : ['IPVS services, ipsets and kube-ipvs0']), ...changedTables.map((j) => j.label)],
        diff: () => (planText ? `IPVS changes, in order:\n${planText}` : '') + job.iptables.map((j) => unified(j.label, ownedTexts(j, 'before'), ownedTexts(j, 'wanted'))).join(''),
        semantic: () => semantic('ipvs', job.saved.before, job.saved.wanted) + job.iptables.map((j) => semantic('iptables', j.saved.before, j.saved.wanted)).join(''),
        ipvsServices: job.serviceKeys,
        commit: (c) => commitIpvs(c, job),
      };
    }
  }
}

/**
 * A unified diff of kpc's part, live to wanted. On big rule sets with many
 * changes the line diff can take seconds: past its time limit it gives way
 * to the lines only one side has, which is linear.
 */
function unified(label: string, before: string, after: string): string {
  if (before === after) return '';
  const patch = createTwoFilesPatch(`${label}: live`, `${label}: kpc`, before, after, '', '', { context: 3, timeout: 1500 });
  return patch ?? onlyOnOneSide(label, before, after);
}

function onlyOnOneSide(label: string, before: string, after: string): string {
  const count = (text: string) => {
    const counts = new Map<string, number>();
    for (const line of text.split('\n')) counts.set(line, (counts.get(line) ?? 0) + 1);
    return counts;
  };
  const a = count(before);
  const b = count(after);
  const lines = [`--- ${label}: live`, `+++ ${label}: kpc`, '(too many changes for a line-by-line diff: lines only in one of them)'];
  for (const [line, n] of a) for (let i = b.get(line) ?? 0; i < n; i++) lines.push(`-${line}`);
  for (const [line, n] of b) for (let i = a.get(line) ?? 0; i < n; i++) lines.push(`+${line}`);
  return lines.join('\n') + '\n';
}

/** kpc diff's report by meaning (service ports, frontends, endpoints); '' when the same or when a side cannot be read. */
function semantic(format: RuleFormat, before: string, after: string): string {
  try {
    return formatText(diffModels(readRuleSet(before, format), readRuleSet(after, format)), (_style, text) => text);
  } catch {
    return '';
  }
}

export { familyLabel };
