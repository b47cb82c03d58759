import type { ApplyContext } from './context.js';
import { ApplyError } from './errors.js';
import { CommandError, firstLines, mustRun, type Target, type Scratch } from './exec.js';
import { removePending, writePending } from './files.js';
import { forgetOthers, keepLoaded, nftMarkerAdd, textHash } from './generation.js';
import { assertOwnTablesOnly, familiesIn, liveTables, normalizeListing, staleTableDeletes, TABLE_NAME, type NftFamily } from './nftables.js';

export interface NftJob {
  /** kpc's tables as they are, normalized, one listing after another. */
  before: string;
  /** As the generated file makes them (loaded in the scratch namespace and listed there). */
  wanted: string;
  /** The file to commit: the generated one, plus deletes of kube-proxy tables of families no longer written. */
  script: string;
  changed: boolean;
  /** The generated text (without marker): kept in the run folder under its hash, the marker names it. */
  generated: string;
}

async function listOwn(exec: Target['exec'], families: NftFamily[]): Promise<string> {
  let text = '';
  for (const family of families) text += normalizeListing(await mustRun(exec, ['nft', 'list', 'table', family, TABLE_NAME]));
  return text;
}

export async function readNft(target: Target): Promise<{ families: NftFamily[]; text: string }> {
  const families = liveTables(await mustRun(target.exec, ['nft', 'list', 'tables']));
  return { families, text: await listOwn(target.exec, families) };
}

export async function prepareNft(target: Target, sandbox: Scratch, generated: string): Promise<NftJob> {
  assertOwnTablesOnly(generated);
  const wantedFamilies = familiesIn(generated);
  const live = await readNft(target);
  const marked = generated + wantedFamilies.map((family) => nftMarkerAdd(family, TABLE_NAME, textHash(generated))).join('');
  const loaded = await sandbox.exec(['nft', '-f', '-'], { input: marked });
  if (loaded.exitCode !== 0) throw new ApplyError(`the kernel rejects the generated nftables rules (nft -f in a scratch namespace: ${firstLines(loaded.stderr)}); nothing was changed`);
  const wanted = await listOwn(sandbox.exec, wantedFamilies);
  const script = marked + staleTableDeletes(live.families, wantedFamilies);
  return { before: live.text, wanted, script, changed: live.text !== wanted, generated };
}

/**
 * `nft -c -f FILE`, then `nft -f FILE`: the file replaces kpc's tables in one
 * transaction, so a failure anywhere leaves every table as it was.
 */
export async function commitNft(ctx: ApplyContext, job: NftJob): Promise<void> {
  const check = await writePending(ctx.runDir, 'nftables-check.nft', job.script);
  try {
    const result = await ctx.target.exec(['nft', '-c', '-f', check]);
    if (result.exitCode !== 0) throw new ApplyError(`nft -c rejects the rules for ${ctx.target.description} (${firstLines(result.stderr)}); nothing was changed`);
  } finally {
    await removePending(check);
  }
  await keepLoaded(ctx.runDir, 'nftables', job.generated);
  const text = ctx.hooks.beforeCommit?.('nftables', job.script) ?? job.script;
  const path = await writePending(ctx.runDir, 'nftables.nft', text);
  try {
    await mustRun(ctx.target.exec, ['nft', '-f', path]);
  } catch (error) {
    const why = error instanceof CommandError ? firstLines(error.result.stderr) : (error as Error).message;
    const after = await readNft(ctx.target).catch(() => null);
    const left =
      after?.text === job.before
        ? "nothing was changed (nft commits the whole file or none of it; kpc's kube-proxy tables read back as they were, and other tables are never named)"
        : "kpc's kube-proxy tables read back differently from before; run kpc apply again";
    throw new ApplyError(`nft -f failed at commit (${why}); ${left}`);
  } finally {
    await removePending(path);
  }
  const now = await readNft(ctx.target);
  if (now.text !== job.wanted) {
    throw new ApplyError('the nftables rules read back after the commit are not the rules loaded; the new rules are in place but differ from what kpc generated (another program changed them?)');
  }
  await forgetOthers(ctx.runDir, 'nftables', textHash(job.generated));
}
