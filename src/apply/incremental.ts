import type { IPFamily } from '../graph/types.js';
import { familyLabel, loadedKey } from './apply-iptables.js';
import type { ApplyContext, Lap } from './context.js';
import { ApplyError } from './errors.js';
import { CommandError, firstLines, mustRun, type Target } from './exec.js';
import { removePending, writePending } from './files.js';
import { forgetOthers, iptablesMarkerLines, keepLoaded, MARKER_TABLES, nftMarkerUpdate, nftTableExists, readIptablesMarker, readLoaded, readNftMarker, textHash } from './generation.js';
import { parseRestore, planRestore, type RestoreFile } from './iptables-plan.js';
import { planRestoreText } from './iptables-text-plan.js';
import { assertOwnTablesOnly, familiesIn, TABLE_NAME, type NftFamily } from './nftables.js';
import { parseNft, planNft } from './nft-plan.js';

/**
 * The incremental path's executor: reads the generation marker, plans with
 * the pure planners (nft-plan.ts, iptables-plan.ts), checks the one
 * transaction against the live host (`nft -c`, `-restore --test`) and
 * commits it. `null` from a `find` means "not known to be kpc's last text":
 * the caller loads in full.
 */

export interface IncrementalJob {
  /** The text the host holds (kept when it was loaded) and the one wanted. */
  before: string;
  after: string;
  /** Where the texts are kept (generation.ts's key) and their hashes: the marker's now and after the commit. */
  key: string;
  beforeHash: string;
  afterHash: string;
  /** The transaction, or null when nothing differs. */
  transaction: string | null;
  changes: number;
  label: string;
  /** Keeps the new text and checks the transaction against the live host (changes nothing there). */
  check(ctx: ApplyContext): Promise<void>;
  /** Commits it and reads the marker back. */
  commit(ctx: ApplyContext): Promise<void>;
  /** After a failure anywhere: puts back `before` wherever the new marker is (the reverse plan); says for what, or throws. */
  rollback(ctx: ApplyContext): Promise<string>;
}

const NFT_FAMILIES: NftFamily[] = ['ip', 'ip6'];

/**
 * The markers of kpc's nftables tables (ip, ip6; null where none), read
 * apart from findNft so the caller can start them before emitting: the
 * commands run while the text is generated.
 */
export function readNftMarkers(target: Target): Promise<(string | null)[]> {
  // Not `nft list tables`: nft 1.0 fetches every table's sets and elements for it (seconds at 10,000 service ports).
  return Promise.all(NFT_FAMILIES.map((family) => readNftMarker(target.exec, family, TABLE_NAME)));
}

/** nftables: the marker of every kpc table must name the same kept text, whose tables are the ones live. */
export async function findNft(target: Target, runDir: string, generated: string, reading: Promise<(string | null)[]> = readNftMarkers(target), lap: Lap = () => {}): Promise<IncrementalJob | null> {
  const read = await reading;
  lap('marker');
  const families = NFT_FAMILIES.filter((_, i) => read[i] !== null);
  if (!families.length) return null;
  // A kube-proxy table without a marker kpc can read: not known to be kpc's last text.
  for (const family of NFT_FAMILIES.filter((f) => !families.includes(f))) if (await nftTableExists(target.exec, family, TABLE_NAME)) return null;
  const markers = read.filter((m): m is string => m !== null);
  const hash = markers[0]!;
  if (markers.some((m) => m !== hash)) return null;
  const before = await readLoaded(runDir, 'nftables', hash);
  lap('read kept text');
  if (before === null || familiesIn(before).join() !== families.join()) return null;
  if (familiesIn(generated).join() !== families.join()) return null;
  const after = generated;
  const next = textHash(after);
  const extra = families.map((family) => nftMarkerUpdate(family, TABLE_NAME, next)).join('');
  let plan;
  try {
    plan = planNft(parseNft(before), parseNft(after), extra);
  } catch {
    return null;
  }
  lap('plan');
  if (plan.kind === 'full') return null;
  const transaction = plan.kind === 'same' ? null : plan.transaction;
  if (transaction) assertOwnTablesOnly(transaction);
  const label = `nftables (table kube-proxy, incremental: ${plan.kind === 'incremental' ? plan.changes : 0} objects)`;
  return {
    before,
    after,
    key: 'nftables',
    beforeHash: hash,
    afterHash: next,
    transaction,
    changes: plan.kind === 'incremental' ? plan.changes : 0,
    label,
    async check(ctx) {
      if (!transaction) return;
      // The text is kept (before the commit, as always) while nft checks.
      await Promise.all([
        // On standard input, so nft starts now: the Services are counted while it checks (see applyGraph).
        ctx.target.exec(['nft', '-c', '-f', '-'], { input: transaction }).then((result) => {
          if (result.exitCode !== 0) throw new ApplyError(`nft -c rejects the incremental transaction for ${ctx.target.description} (${firstLines(result.stderr)}); nothing was changed; kpc apply --full loads the whole table`);
        }),
        keepLoaded(ctx.runDir, 'nftables', after, next),
      ]);
    },
    async commit(ctx) {
      if (!transaction) return;
      const text = ctx.hooks.beforeCommit?.('nftables', transaction) ?? transaction;
      const path = await writePending(ctx.runDir, 'nftables.nft', text);
      try {
        await mustRun(ctx.target.exec, ['nft', '-f', path]);
      } catch (error) {
        const why = error instanceof CommandError ? firstLines(error.result.stderr) : (error as Error).message;
        throw new ApplyError(`nft -f failed at commit (${why})`);
      } finally {
        await removePending(path);
      }
      const now = await Promise.all(families.map((family) => readNftMarker(ctx.target.exec, family, TABLE_NAME)));
      if (now.some((m) => m !== next)) throw new ApplyError("the generation marker read back after the commit is not the one loaded (another program changed kpc's tables?); run kpc apply again, it will load them in full");
      await forgetOthers(ctx.runDir, 'nftables', next);
    },
    async rollback(ctx) {
      const now = await Promise.all(families.map((family) => readNftMarker(ctx.target.exec, family, TABLE_NAME)));
      if (now.every((m) => m === hash)) return 'nftables (IPv4)';
      const back = planNft(parseNft(after), parseNft(before), families.map((family) => nftMarkerUpdate(family, TABLE_NAME, hash)).join(''));
      if (back.kind !== 'incremental') throw new Error('no way back from the new tables');
      const path = await writePending(ctx.runDir, 'nftables-rollback.nft', back.transaction);
      try {
        await mustRun(ctx.target.exec, ['nft', '-f', path]);
      } finally {
        await removePending(path);
      }
      return 'nftables (IPv4)';
    },
  };
}

/** iptables, one family: filter's and nat's markers must name the same kept text. */
/** The markers of filter and nat for one tool (null where none); started before emitting, as readNftMarkers. */
export function readIptablesMarkers(target: Target, tool: 'iptables' | 'ip6tables'): Promise<(string | null)[]> {
  return Promise.all(MARKER_TABLES.map((table) => readIptablesMarker(target.exec, tool, table)));
}

export async function findIptables(
  target: Target,
  runDir: string,
  family: IPFamily,
  tool: 'iptables' | 'ip6tables',
  generated: string,
  reading: Promise<(string | null)[]> = readIptablesMarkers(target, tool),
  lap: Lap = () => {},
): Promise<IncrementalJob | null> {
  const key = loadedKey(tool, family);
  const markers = await reading;
  lap('marker');
  const hash = markers[0];
  if (!hash || markers.some((m) => m !== hash)) return null;
  const before = await readLoaded(runDir, key, hash);
  lap('read kept text');
  if (before === null) return null;
  const after = generated;
  const next = textHash(after);
  let plan;
  try {
    const extra = (table: string) => (MARKER_TABLES.includes(table) ? iptablesMarkerLines(next) : []);
    if (MARKER_TABLES.some((table) => !after.includes(`\n*${table}\n`) && !after.startsWith(`*${table}\n`))) return null;
    // From the texts' differences when they are laid out as kpc writes them, else read whole.
    plan = planRestoreText(before, after, extra) ?? planRestore(parseRestore(before), parseRestore(after), extra);
  } catch {
    return null;
  }
  lap('plan');
  if (plan.kind === 'full') return null;
  const restore = plan.kind === 'same' ? null : plan.restore;
  return {
    before,
    after,
    key,
    beforeHash: hash,
    afterHash: next,
    transaction: restore,
    changes: plan.kind === 'incremental' ? plan.changes : 0,
    label: `${tool} (IPv${family}, incremental: ${plan.kind === 'incremental' ? plan.changes : 0} chains)`,
    async check(ctx) {
      if (!restore) return;
      // The text is kept (before the commit, as always) while the tool tests.
      await Promise.all([
        // On standard input, so the tool starts now: the Services are counted while it tests (see applyGraph).
        ctx.target.exec([`${tool}-restore`, '-w', '--noflush', '--test'], { input: restore }).then((result) => {
          if (result.exitCode !== 0) throw new ApplyError(`${tool}-restore --test rejects the incremental rules for ${ctx.target.description} (${firstLines(result.stderr)}); nothing was changed; kpc apply --full loads every chain`);
        }),
        keepLoaded(ctx.runDir, key, after, next),
      ]);
    },
    async commit(ctx) {
      if (!restore) return;
      const text = ctx.hooks.beforeCommit?.(tool, restore) ?? restore;
      const path = await writePending(ctx.runDir, `${tool}.rules`, text);
      try {
        const result = await ctx.target.exec([`${tool}-restore`, '-w', '--noflush', path], { discardStdout: true });
        // One kernel commit per table: filter may be in while nat is not. The markers say which; the caller puts them back.
        if (result.exitCode !== 0) throw new ApplyError(`${tool}-restore failed at commit: ${firstLines(result.stderr)}`);
      } finally {
        await removePending(path);
      }
      const now = await Promise.all(MARKER_TABLES.map((table) => readIptablesMarker(ctx.target.exec, tool, table)));
      if (now.some((m) => m !== next)) throw new ApplyError(`the ${tool} generation marker read back after the commit is not the one loaded (another program changed kpc's chains?); run kpc apply again, it will load them in full`);
      await forgetOthers(ctx.runDir, key, next);
    },
    async rollback(ctx) {
      const now = await Promise.all(MARKER_TABLES.map((table) => readIptablesMarker(ctx.target.exec, tool, table)));
      const label = familyLabel(tool, family);
      const moved = MARKER_TABLES.filter((_, i) => now[i] === next);
      if (!moved.length) return label;
      const only = (file: RestoreFile) => new Map([...file].filter(([table]) => moved.includes(table)));
      const back = planRestore(only(parseRestore(after)), only(parseRestore(before)), () => iptablesMarkerLines(hash));
      if (back.kind === 'incremental') {
        const path = await writePending(ctx.runDir, `${tool}-rollback.rules`, back.restore);
        try {
          await mustRun(ctx.target.exec, [`${tool}-restore`, '-w', '--noflush', path], { discardStdout: true });
        } finally {
          await removePending(path);
        }
      }
      const again = await Promise.all(MARKER_TABLES.map((table) => readIptablesMarker(ctx.target.exec, tool, table)));
      if (again.some((m) => m !== hash)) throw new Error(`${label}: the generation marker does not read back as before`);
      return label;
    },
  };
}
