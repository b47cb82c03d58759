import { createTwoFilesPatch } from 'diff';
import { resolve } from 'node:path';
import { diffModels } from '../diff/index.js';
import { mergeModels, readRuleSet, type RuleFormat, type RuleSetModel } from '../read/index.js';
import { emptyModel } from '../read/model.js';
import { formatText } from '../diff/format.js';
import { emit, type NftLayout } from '../compile.js';
import { emitIpvsParts } from '../emit/ipvs/index.js';
import { nftFamilies } from '../emit/nftables/index.js';
import type { IPFamily, RoutingGraph } from '../graph/types.js';
import { familyLabel, prepareIptables, commitIptables, checkIptables, loadedKey, ownedTexts, type IptablesJob } from './apply-iptables.js';
import { commitIpvs, prepareIpvs } from './apply-ipvs.js';
import { commitNft, prepareNft } from './apply-nftables.js';
import { conntrackDeletions, runConntrack, udpFrontends } from './conntrack.js';
import type { ApplyContext, ApplyHooks, Lap } from './context.js';
import { ApplyError, ApplyRefusedError } from './errors.js';
import { hostTarget, loadExeca, type Scratch, type Target } from './exec.js';
import { sweepPending } from './files.js';
import { describePlan, ipvsadmText, ownedLiveServices, planIsEmpty } from './ipvs.js';
import { acquireLock, LockBusyError } from './lock.js';
import { findIptables, findNft, readIptablesMarkers, readNftMarkers, type IncrementalJob } from './incremental.js';
import { Sandbox } from './sandbox.js';
import { formatServiceChanges, ipvsFrontendNames, ipvsServiceChanges, refusal, serviceChanges, type ServiceChanges } from './services.js';
import { readRecord, unionRecord, writeRecord, type ApplyRecord } from './state.js';
import { keepServiceRecord, readServiceRecord, recordChanges, recordFormat, serviceRecord, type ServiceRecord } from './service-record.js';
import { textHash } from './generation.js';

export { ApplyError, ApplyRefusedError, HostError } from './errors.js';
export { formatServiceChanges, type ServiceChanges } from './services.js';
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
  /** Objects in the input, when the caller knows: an input with none is refused (as kubectl apply refuses one). */
  inputObjects?: number;
  /** Go ahead even with an input of no objects, or one that would remove every Service kpc has on the host. */
  allowEmpty?: boolean;
  /** Told what the apply does to Services (`+N ~M -K services ...`) before it changes anything. */
  onServices?: (summary: string) => void | Promise<void>;
  /** Load every rule even when the host holds kpc's last rules (default: send only the differences then). */
  full?: boolean;
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
  /** Services added, changed and removed (from the Service records kept with the texts, else read back from the live and the new rules); null when nothing changes. */
  services: ServiceChanges | null;
  /** Only in a dry run: why the apply itself would be refused (ApplyRefusedError's message), or null. */
  refused: string | null;
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
 * An input with no objects, or one that would leave none of the Services the
 * host has from kpc, is refused (ApplyRefusedError) unless allowEmpty says so.
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
  // Loaded while the lock is taken, so the commands started before the rules are emitted run while they are (see prefixedExec).
  const execaLoading = loadExeca().catch(() => undefined);
  if (!dryRun) onStep('waiting for the apply lock');
  const lock = dryRun ? null : await acquireLock(runDir, options.lockWaitMs).catch((error: unknown) => {
    throw error instanceof LockBusyError ? new ApplyError(`${error.message}; nothing was changed`) : error;
  });
  lap('lock');
  try {
    await execaLoading;
    if (lock) await sweepPending(runDir);
    const ctx: ApplyContext = { target, runDir, lock, hooks: options.hooks ?? {} };
    const record = await readRecord(runDir);
    onStep('reading the live rules and checking the new ones');
    // The scratch namespace is opened on first use: the incremental path checks against the host itself and never needs one (opening it cost a quarter of a second).
    let opened: Promise<Scratch> | null = null;
    const open = () =>
      (opened ??= (target.openScratch ? target.openScratch() : Sandbox.open(target)).catch((error: unknown) => {
        throw new ApplyError(`${(error as Error).message}; nothing was changed`);
      }));
    const sandbox: Scratch = { exec: async (argv, execOptions) => (await open()).exec(argv, execOptions), close: () => {} };
    let prepared: Prepared;
    try {
      prepared = await prepare(ctx, sandbox, graph, options, record, lap);
    } catch (error) {
      // Reading, generating and checking change nothing: say so whatever failed.
      if (error instanceof ApplyError) throw error;
      throw new ApplyError(`${(error as Error).message}; nothing was changed`);
    } finally {
      if (opened) (await (opened as Promise<Scratch>).catch(() => null))?.close();
    }
    // The incremental check (a child process that changes nothing) runs while the Services are counted.
    const checking = !dryRun && prepared.changed && prepared.startCheck ? prepared.startCheck(ctx).then(() => null, (error: unknown) => error) : null;
    let services: ServiceChanges | null = null;
    try {
      if (prepared.changed) services = prepared.services();
    } catch (error) {
      throw new ApplyError(`reading the live and the new rules back to count Services failed (${(error as Error).message}); nothing was changed`);
    }
    const refused = options.allowEmpty ? null : refusal(services, { objects: options.inputObjects ?? null, servicePorts: graph.servicePorts.length, skipped: graph.skipped });
    lap(prepared.incremental ? 'count services' : 'read and check');
    const next: ApplyRecord = {
      version: 1,
      udp: udpFrontends(graph),
      ipvsServices: prepared.ipvsServices ?? record.ipvsServices,
      ipvsNames: options.mode === 'ipvs' ? ipvsFrontendNames(graph) : record.ipvsNames,
    };
    const report: ApplyReport = { mode: options.mode, dryRun, changed: prepared.changed, applied: prepared.describe, diff: '', semantic: '', services, refused: null, conntrack: [], timings };
    if (dryRun) {
      if (prepared.changed) Object.assign(report, { diff: prepared.diff(), semantic: prepared.semantic() });
      report.refused = refused;
      return report;
    }
    if (refused) throw new ApplyRefusedError(refused, services);
    const checkFailed = await checking;
    if (checkFailed) throw checkFailed;
    if (prepared.changed) {
      if (services) await options.onServices?.(formatServiceChanges(services));
      onStep('loading the new rules');
      await writeRecord(runDir, unionRecord(record, next));
      // Before the commit, as the text it describes: a host that holds the new text always has its record.
      for (const kept of prepared.records()) await keepServiceRecord(runDir, kept.key, kept.hash, kept.record);
      report.applied = await prepared.commit(ctx, lap);
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
  /** Services added, changed and removed, live to wanted. */
  services(): ServiceChanges;
  ipvsServices?: string[];
  /** Only the differences are sent (the host holds kpc's last text). */
  incremental?: boolean;
  /** The Service record of each text about to be committed (none in IPVS mode), kept with it; computed when first asked. */
  records(): KeptRecord[];
  /** Incremental path: starts the check against the live host (changes nothing) before the commit asks for it, so it runs while the Services are counted. */
  startCheck?(ctx: ApplyContext): Promise<void>;
  /** `lap(step)` ends a step's timing (ApplyReport.timings). */
  commit(ctx: ApplyContext, lap: Lap): Promise<string[]>;
}

/** `compute`, run once when first asked. */
function once<T>(compute: () => T): () => T {
  let value: { v: T } | null = null;
  return () => (value ??= { v: compute() }).v;
}

interface KeptRecord {
  key: string;
  hash: string;
  record: ServiceRecord;
}

async function prepare(ctx: ApplyContext, sandbox: Scratch, graph: RoutingGraph, options: ApplyOptions, record: ApplyRecord, lap: Lap): Promise<Prepared> {
  switch (options.mode) {
    case 'iptables': {
      const families = options.families ?? nftFamilies(graph);
      const tools = families.map((family): 'iptables' | 'ip6tables' => (family === 4 ? 'iptables' : 'ip6tables'));
      const tryIncremental = !options.full && !options.dryRun;
      // The markers are read while the rules are generated.
      const markers = tryIncremental ? tools.map((tool) => readIptablesMarkers(ctx.target, tool)) : [];
      const texts = families.map((family) => emit(graph, { mode: 'iptables', family }));
      // Computed when the Services are counted (on the incremental path, while the check runs): ~0.2 s at 10,000 service ports.
      const records = once(() => families.map((family) => serviceRecord(graph, recordFormat('iptables'), [family])));
      lap('emit');
      if (tryIncremental) {
        const found = await Promise.all(families.map((family, i) => findIptables(ctx.target, ctx.runDir, family, tools[i]!, texts[i]!, markers[i], lap)));
        if (found.every((job): job is IncrementalJob => job !== null)) return incremental(ctx, 'iptables', found, records);
      }
      const jobs: IptablesJob[] = [];
      for (const [i, family] of families.entries()) {
        const tool = family === 4 ? 'iptables' : 'ip6tables';
        jobs.push(await prepareIptables(ctx.target, sandbox, family, tool, texts[i]!));
      }
      const changedJobs = jobs.filter((j) => j.restore !== null);
      const pairs = jobs.map((j) => readBack('iptables', j.saved.before, j.saved.wanted));
      return {
        changed: changedJobs.length > 0,
        describe: changedJobs.map((j) => j.label),
        diff: () => jobs.map((j) => unified(j.label, ownedTexts(j, 'before'), ownedTexts(j, 'wanted'))).join(''),
        semantic: () => pairs.map(semantic).join(''),
        // One Service may have rules in both families: counted once, over both.
        services: () => serviceChanges(merged(pairs.map((p) => p().before)), merged(pairs.map((p) => p().after))),
        records: () => jobs.map((job, i) => ({ key: loadedKey(job.tool, job.family), hash: textHash(texts[i]!), record: records()[i]! })),
        async commit(c) {
          for (const job of changedJobs) await checkIptables(c, job);
          return commitIptables(c, changedJobs);
        },
      };
    }
    case 'nftables': {
      const tryIncremental = !options.full && !options.dryRun;
      // The markers are read while the rules are generated.
      const markers = tryIncremental ? readNftMarkers(ctx.target) : null;
      const generated = emit(graph, { mode: 'nftables', family: 4, layout: options.layout });
      const records = once(() => [serviceRecord(graph, recordFormat('nftables', options.layout), [4, 6])]);
      lap('emit');
      if (markers) {
        const found = await findNft(ctx.target, ctx.runDir, generated, markers, lap);
        if (found) return incremental(ctx, 'nftables', [found], records);
      }
      const job = await prepareNft(ctx.target, sandbox, generated);
      const pair = readBack('nftables', job.before, job.wanted);
      return {
        changed: job.changed,
        describe: job.changed ? ['nftables (table kube-proxy)'] : [],
        diff: () => unified('nftables', job.before, job.wanted),
        semantic: () => semantic(pair),
        services: () => serviceChanges(pair().before, pair().after),
        records: () => [{ key: 'nftables', hash: textHash(generated), record: records()[0]! }],
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
      // Only kpc's virtual services: the planner never touches the others, so the diff does not show them.
      const before = ipvsadmText(ownedLiveServices(job.live, job.wanted, record.ipvsServices));
      return {
        changed,
        describe: [...(planIsEmpty(job.plan) ? [] : ['IPVS services, ipsets and kube-ipvs0']), ...changedTables.map((j) => j.label)],
        diff: () => (planText ? `IPVS changes, in order:\n${planText}` : '') + job.iptables.map((j) => unified(j.label, ownedTexts(j, 'before'), ownedTexts(j, 'wanted'))).join(''),
        semantic: () => semantic(readBack('ipvs', before, job.saved.wanted)) + job.iptables.map((j) => semantic(readBack('iptables', j.saved.before, j.saved.wanted))).join(''),
        services: () => ipvsServiceChanges(job.live, job.wanted, record.ipvsServices, { ...record.ipvsNames, ...ipvsFrontendNames(graph) }),
        ipvsServices: job.serviceKeys,
        records: () => [],
        commit: (c) => commitIpvs(c, job),
      };
    }
  }
}

/**
 * The host holds kpc's last texts (their markers say so): the change is
 * planned from the two generated texts, without listing the live tables or
 * loading the new rules in a scratch namespace, and committed as one
 * transaction per family (nft -c / -restore --test first). Services are
 * counted from the records kept with the texts (service-record.ts); where
 * those cannot say, from both texts read back.
 */
async function incremental(ctx: ApplyContext, format: 'iptables' | 'nftables', jobs: IncrementalJob[], wanted: () => ServiceRecord[]): Promise<Prepared> {
  const changedJobs = jobs.filter((j) => j.transaction !== null);
  const pairs = jobs.map((j) => readBack(format, j.before, j.after));
  const live = changedJobs.length ? await Promise.all(jobs.map((j) => readServiceRecord(ctx.runDir, j.key, j.beforeHash))) : [];
  const fromRecords = () => (live.every((r): r is ServiceRecord => r !== null) ? recordChanges(live, wanted()) : null);
  // Every job's check in turn, started once (by startCheck, or by the commit).
  let checking: Promise<void> | null = null;
  const check = (c: ApplyContext) =>
    (checking ??= (async () => {
      for (const job of changedJobs) await job.check(c);
    })());
  return {
    changed: changedJobs.length > 0,
    describe: changedJobs.map((j) => j.label),
    diff: () => jobs.map((j) => unified(j.label, j.before, j.after)).join(''),
    semantic: () => pairs.map(semantic).join(''),
    services: () => fromRecords() ?? serviceChanges(merged(pairs.map((p) => p().before)), merged(pairs.map((p) => p().after))),
    records: () => jobs.map((j, i) => ({ key: j.key, hash: j.afterHash, record: wanted()[i]! })),
    incremental: true,
    startCheck: check,
    async commit(c, lap) {
      await check(c);
      lap('check');
      // Every family's commit starts in the same tick, from files written beforehand (as the full path's): a kill from here on leaves them all committed.
      const results = await Promise.allSettled(changedJobs.map((job) => job.commit(c)));
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
      if (failed.length) throw new ApplyError(`${failed.join('; ')}; ${await rollbackIncremental(c, changedJobs)}`);
      return changedJobs.map((j) => j.label);
    },
  };
}

/** After a failed incremental commit: every job back to the text it held (reverse plans, markers read back), and what the host was left with. */
async function rollbackIncremental(ctx: ApplyContext, jobs: IncrementalJob[]): Promise<string> {
  const restored: string[] = [];
  const failed: string[] = [];
  for (const job of [...jobs].reverse()) {
    try {
      restored.push(await job.rollback(ctx));
    } catch (error) {
      failed.push(`${job.label}: ${(error as Error).message}`);
    }
  }
  if (failed.length) return `putting the previous rules back FAILED for ${failed.join('; ')}; run kpc apply --full`;
  return `the previous rules were put back (${restored.join(', ')}: read back through the generation marker; other rules were never touched); nothing was changed`;
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

type ReadBack = () => { before: RuleSetModel; after: RuleSetModel };

/**
 * Live and wanted rules read into src/read's model, once: a dry run uses them
 * for the diff by meaning and for the Service count (reading is what costs,
 * about a second per side at 10,000 service ports).
 */
function readBack(format: RuleFormat, before: string, after: string): ReadBack {
  return once(() => ({ before: readRuleSet(before, format), after: readRuleSet(after, format) }));
}

/** Per-family models as one, leaving them as they are. */
function merged(models: RuleSetModel[]): RuleSetModel {
  return mergeModels([emptyModel(models[0]?.format ?? 'iptables'), ...models]);
}

/** kpc diff's report by meaning (service ports, frontends, endpoints); '' when the same or when a side cannot be read. */
function semantic(pair: ReadBack): string {
  try {
    return formatText(diffModels(pair().before, pair().after), (_style, text) => text);
  } catch {
    return '';
  }
}

export { familyLabel };
