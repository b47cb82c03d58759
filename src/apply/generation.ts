import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Exec } from './exec.js';

/** The Service record kept next to a text (service-record.ts) ends its name with this. */
export const RECORD_SUFFIX = '.services';

/**
 * How apply knows, cheaply, what a host holds: the generation marker.
 *
 * Every load kpc commits carries, in the same kernel transaction, a marker
 * naming the hash of the rule text it loaded: in nftables a set
 * `kpc-generation` in each of kpc's tables, holding one element whose
 * comment is `kpc HASH`; in iptables a chain KUBE-KPC-GENERATION in filter
 * and in nat with one rule of the same comment. The text itself is kept in
 * the run folder (/run/kpc/loaded-MODE-HASH), written before the commit.
 * Reading the marker lists one small set or chain (milliseconds), not the
 * table (seconds at 10,000 service ports). In nftables it is a set, not a
 * chain: nft 1.0 fetches every set and element of the table to list one
 * chain (or `list tables`: 5 s for the compact layout at 10,000 service
 * ports), and only what it lists to list one set (30 ms).
 *
 * A marker naming a text kpc still has means the host holds that text, and
 * the next apply sends only the differences. Anything else (no marker, a
 * marker another program changed or removed with the table, tables that do
 * not agree, a text file that is gone) means a full load, as before. What
 * the marker cannot see is a foreign edit that leaves the marker chain alone
 * (a rule added to one of kpc's chains by hand): the next full load (or
 * `kpc apply --full`) puts that right.
 *
 * Killed at any point, the host holds the old text or the new one (each
 * commit is one transaction carrying its marker), and both texts are on disk
 * until a later commit succeeds, so the next apply reads the marker and knows
 * which.
 */

export const NFT_MARKER_SET = 'kpc-generation';
export const IPTABLES_MARKER_CHAIN = 'KUBE-KPC-GENERATION';

/** The marker's hash of a text, or of its UTF-8 bytes as read from a file (the same value). */
export function textHash(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

const COMMENTS = /comment "kpc ([0-9a-f]{32})"/g;

// --- nftables ---------------------------------------------------------------

/** The marker's statements for a full load (after the table was re-created). */
export function nftMarkerAdd(family: string, table: string, hash: string): string {
  return `add set ${family} ${table} ${NFT_MARKER_SET} { type inet_service ; }\nadd element ${family} ${table} ${NFT_MARKER_SET} { 0 comment "kpc ${hash}" }\n`;
}

/** The marker's statements for an incremental transaction (the set and its element 0 are there: the marker was just read). */
export function nftMarkerUpdate(family: string, table: string, hash: string): string {
  return `delete element ${family} ${table} ${NFT_MARKER_SET} { 0 }\nadd element ${family} ${table} ${NFT_MARKER_SET} { 0 comment "kpc ${hash}" }\n`;
}

/** The hash one table's marker names, or null (no table, no set, no marker element, or more than one). */
export async function readNftMarker(exec: Exec, family: string, table: string): Promise<string | null> {
  const result = await exec(['nft', 'list', 'set', family, table, NFT_MARKER_SET]);
  if (result.exitCode !== 0) return null;
  return onlyMarker(result.stdout);
}

/**
 * Whether the table exists: only asked where no marker could be read (when
 * it exists, a full load follows). nft 1.0.6 fills its cache before
 * listing, and what it fetches depends on the command: for `list table` every
 * chain of every table (0.46-0.49 s beside kube-proxy's layout at 10,000
 * service ports, even for a missing table), for `list sets` every set's
 * elements (2.55 s beside the compact layout). `list flowtables FAMILY`
 * fetches neither (0.00 s beside both, measured) and prints every table of
 * the family, with flowtables or none.
 */
export async function nftTableExists(exec: Exec, family: string, table: string): Promise<boolean> {
  const result = await exec(['nft', 'list', 'flowtables', family]);
  return result.exitCode === 0 && result.stdout.split('\n').includes(`table ${family} ${table} {`);
}

// --- iptables ---------------------------------------------------------------

export const MARKER_TABLES = ['filter', 'nat'];

/** The marker's lines inside one table's section (declaring the chain flushes it). */
export function iptablesMarkerLines(hash: string): string[] {
  return [`:${IPTABLES_MARKER_CHAIN} - [0:0]`, `-A ${IPTABLES_MARKER_CHAIN} -m comment --comment "kpc ${hash}" -j RETURN`];
}

/** kpc's generated restore text with the marker chain added to filter and nat. */
export function withIptablesMarker(text: string, hash: string): string {
  const out: string[] = [];
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    if (line === 'COMMIT' && MARKER_TABLES.includes(table)) out.push(...iptablesMarkerLines(hash));
    out.push(line);
  }
  return out.join('\n');
}

/** The hash one table's marker names, or null. `-S CHAIN` lists that chain only. */
export async function readIptablesMarker(exec: Exec, tool: string, table: string): Promise<string | null> {
  const result = await exec([tool, '-w', '-t', table, '-S', IPTABLES_MARKER_CHAIN]);
  if (result.exitCode !== 0) return null;
  return onlyMarker(result.stdout);
}

function onlyMarker(listing: string): string | null {
  const found = [...listing.matchAll(COMMENTS)].map((match) => match[1]!);
  return found.length === 1 ? found[0]! : null;
}

// --- the texts kpc loaded ---------------------------------------------------

const PREFIX = 'loaded-';

export function loadedPath(dir: string, key: string, hash: string): string {
  return join(dir, `${PREFIX}${key}-${hash}`);
}

/** The text kpc loaded under this marker, or null when it is not kept (any more). */
export async function readLoaded(dir: string, key: string, hash: string): Promise<string | null> {
  try {
    // Hashed as read (the bytes textHash would hash), not re-encoded from the string: tens of milliseconds at 10,000 service ports.
    const bytes = await readFile(loadedPath(dir, key, hash));
    return textHash(bytes) === hash ? bytes.toString('utf8') : null;
  } catch {
    return null;
  }
}

/** Keeps the text about to be committed (complete before the commit starts); `hash` is its textHash when the caller has it already. */
export async function keepLoaded(dir: string, key: string, text: string, hash = textHash(text)): Promise<string> {
  const path = loadedPath(dir, key, hash);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, path);
  return hash;
}

/** After a commit: every kept text of `key` (and its Service record) but the one the host now holds goes. */
export async function forgetOthers(dir: string, key: string, hash: string | null): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const keep = hash === null ? [] : [`${PREFIX}${key}-${hash}`, `${PREFIX}${key}-${hash}${RECORD_SUFFIX}`];
  await Promise.all(names.filter((n) => n.startsWith(`${PREFIX}${key}-`) && !keep.includes(n)).map((n) => rm(join(dir, n), { force: true })));
}
