import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const PREFIX = 'pending-';

/**
 * Rule files handed to iptables-restore and nft by path, never through a
 * pipe: a kpc killed while writing a pipe would leave the tool a truncated
 * input, and a truncated input can still be a valid smaller rule set (a
 * whole *filter table and half of *nat). A file is complete before the tool
 * starts, and the tool finishes it even if kpc dies.
 */
export async function writePending(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, `${PREFIX}${process.pid}-${name}`);
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

export async function removePending(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** Files of earlier applies that were killed; called with the lock held, when no child of theirs still runs. */
export async function sweepPending(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => n.startsWith(PREFIX)).map((n) => rm(join(dir, n), { force: true })));
}
