import type { IPFamily } from '../graph/types.js';
import { firstLines, mustRun, type Target, type Scratch } from './exec.js';
import { removePending, writePending } from './files.js';
import { ownedPart, ownedText, parseSave, TABLES, transition, type OwnedTable, type SavedTable, type TableName } from './iptables.js';
import type { ApplyContext } from './context.js';
import { ApplyError } from './errors.js';
import { forgetOthers, keepLoaded, textHash, withIptablesMarker } from './generation.js';

/** One family's iptables rules, from generated text to what the target must be switched to. */
export interface IptablesJob {
  family: IPFamily;
  /** 'iptables' or 'ip6tables': the -save/-restore tools' prefix. */
  tool: 'iptables' | 'ip6tables';
  /** Label for messages: "iptables (IPv4)". */
  label: string;
  live: Map<string, SavedTable>;
  /** kpc's part of each table as it is now. */
  before: Map<TableName, OwnedTable>;
  /** kpc's part of each table as the generated rules make it (the kernel's own canonical form). */
  wanted: Map<TableName, OwnedTable>;
  /** The --noflush restore input (every table that changes), or null when nothing does. */
  restore: string | null;
  /** iptables-save text of filter and nat, live and as loaded in the scratch namespace (for the semantic diff). */
  saved: { before: string; wanted: string };
  /** The generated text without marker: kept in the run folder under its hash, which the marker names. */
  generated: string;
}

/** The run folder's name for one family's kept text. */
export function loadedKey(tool: string, family: IPFamily): string {
  return `${tool}-${family}`;
}

export function familyLabel(tool: string, family: IPFamily): string {
  return `${tool} (IPv${family})`;
}

async function save(run: (argv: string[]) => Promise<string>, tool: string): Promise<{ tables: Map<string, SavedTable>; text: string }> {
  const tables = new Map<string, SavedTable>();
  let text = '';
  for (const table of TABLES) {
    const dump = await run([`${tool}-save`, '-t', table]);
    text += dump.endsWith('\n') || dump === '' ? dump : `${dump}\n`;
    const found = parseSave(dump).get(table);
    if (found) tables.set(table, found);
  }
  return { tables, text };
}

export async function readIptables(target: Target, tool: string): Promise<Map<string, SavedTable>> {
  return (await save((argv) => mustRun(target.exec, argv), tool)).tables;
}

/**
 * Reads the target, loads the generated rules into the scratch namespace and
 * reads them back there: what the kernel makes of kpc's text, in the same
 * iptables-save form as the live state, so the two compare line by line.
 */
export async function prepareIptables(target: Target, sandbox: Scratch, family: IPFamily, tool: 'iptables' | 'ip6tables', generated: string): Promise<IptablesJob> {
  const label = familyLabel(tool, family);
  const { tables: live, text: liveText } = await save((argv) => mustRun(target.exec, argv), tool);
  const loaded = await sandbox.exec([`${tool}-restore`, '-w'], { input: withIptablesMarker(generated, textHash(generated)) });
  if (loaded.exitCode !== 0) {
    throw new ApplyError(`the kernel rejects the generated ${label} rules (${tool}-restore in a scratch namespace: ${firstLines(loaded.stderr)}); nothing was changed`);
  }
  const { tables: canonical, text: canonicalText } = await save((argv) => mustRun(sandbox.exec, argv), tool);
  const before = new Map<TableName, OwnedTable>();
  const wanted = new Map<TableName, OwnedTable>();
  const parts: string[] = [];
  for (const table of TABLES) {
    before.set(table, ownedPart(live.get(table)));
    wanted.set(table, ownedPart(canonical.get(table)));
    const text = transition(table, live.get(table), wanted.get(table)!, 'top');
    if (text) parts.push(text);
  }
  return { family, tool, label, live, before, wanted, restore: parts.length ? parts.join('') : null, saved: { before: liveText, wanted: canonicalText }, generated };
}

export function ownedTexts(job: IptablesJob, which: 'before' | 'wanted'): string {
  const map = which === 'before' ? job.before : job.wanted;
  return TABLES.map((t) => ownedText(t, map.get(t)!)).join('');
}

/** `-restore --test --noflush` of the real input against the target: syntax, matches and targets the kernel knows. */
export async function checkIptables(ctx: ApplyContext, job: IptablesJob): Promise<void> {
  if (!job.restore) return;
  const path = await writePending(ctx.runDir, `${job.tool}-test.rules`, job.restore);
  try {
    const result = await ctx.target.exec([`${job.tool}-restore`, '-w', '--noflush', '--test', path]);
    if (result.exitCode !== 0) {
      throw new ApplyError(`${job.tool}-restore --test rejects the rules for ${ctx.target.description} (${firstLines(result.stderr)}); nothing was changed`);
    }
  } finally {
    await removePending(path);
  }
}

/**
 * Commits every family at once: each gets one `-restore --noflush FILE` (one
 * kernel commit per table), and all are started in the same tick, from files
 * written beforehand, so a kpc killed from then on still leaves every family
 * committed (the restores are orphaned and finish). If any fails, every job
 * (the failed one included: its filter may be in while its nat is not) is
 * switched back to the state read before, jumps at their old positions.
 */
export async function commitIptables(ctx: ApplyContext, jobs: IptablesJob[]): Promise<string[]> {
  const todo = jobs.filter((job) => job.restore !== null);
  if (!todo.length) return [];
  const paths: string[] = [];
  try {
    for (const job of todo) await keepLoaded(ctx.runDir, loadedKey(job.tool, job.family), job.generated);
    for (const job of todo) {
      const text = ctx.hooks.beforeCommit?.(job.tool, job.restore!) ?? job.restore!;
      paths.push(await writePending(ctx.runDir, `${job.tool}.rules`, text));
    }
    const results = await Promise.all(todo.map((job, i) => ctx.target.exec([`${job.tool}-restore`, '-w', '--noflush', paths[i]!], { discardStdout: true })));
    const failures = results.flatMap((result, i) => (result.exitCode === 0 ? [] : [`${todo[i]!.tool}-restore failed at commit: ${firstLines(result.stderr)}`]));
    try {
      if (!failures.length) for (const job of todo) await verify(ctx, job);
    } catch (error) {
      failures.push((error as Error).message);
    }
    if (failures.length) throw new ApplyError(`${failures.join('; ')}; ${await rollback(ctx, todo)}`);
    for (const job of todo) await forgetOthers(ctx.runDir, loadedKey(job.tool, job.family), textHash(job.generated));
  } finally {
    await Promise.all(paths.map(removePending));
  }
  return todo.map((job) => job.label);
}

async function verify(ctx: ApplyContext, job: IptablesJob): Promise<void> {
  const now = await readIptables(ctx.target, job.tool);
  const text = TABLES.map((t) => ownedText(t, ownedPart(now.get(t)))).join('');
  if (text !== ownedTexts(job, 'wanted')) throw new Error(`${job.label}: the rules read back after the commit are not the rules loaded`);
}

/** Puts kpc's part of each job back as it was; says what the host was left with. */
export async function rollback(ctx: ApplyContext, jobs: IptablesJob[]): Promise<string> {
  const restored: string[] = [];
  const failed: string[] = [];
  for (const job of [...jobs].reverse()) {
    try {
      const now = await readIptables(ctx.target, job.tool);
      const parts = TABLES.map((t) => transition(t, now.get(t), job.before.get(t)!, 'recorded')).filter((p): p is string => p !== null);
      if (parts.length) {
        const path = await writePending(ctx.runDir, `${job.tool}-rollback.rules`, parts.join(''));
        try {
          await mustRun(ctx.target.exec, [`${job.tool}-restore`, '-w', '--noflush', path], { discardStdout: true });
        } finally {
          await removePending(path);
        }
      }
      const back = await readIptables(ctx.target, job.tool);
      const text = TABLES.map((t) => ownedText(t, ownedPart(back.get(t)))).join('');
      if (text !== ownedTexts(job, 'before')) throw new Error('the rules read back differ from the earlier ones');
      restored.push(job.label);
    } catch (error) {
      failed.push(`${job.label}: ${(error as Error).message}`);
    }
  }
  if (failed.length) {
    return `putting the previous rules back FAILED for ${failed.join('; ')}: kpc's chains there may be a mix of old and new; run kpc apply again`;
  }
  if (!restored.length) return 'nothing had been changed';
  return `the previous rules were put back (${restored.join(', ')}: kpc's chains and jumps in filter and nat as they were; other rules were never touched)`;
}
