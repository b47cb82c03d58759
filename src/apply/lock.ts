import { closeSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The apply lock: one file, created with O_EXCL ('wx'), naming its holder.
 *
 * A holder that died (SIGKILL, power loss) leaves the file behind; it is
 * stale once the holder and every child still committing for it are gone.
 * The children matter: kpc hands iptables-restore and nft a finished file
 * (run-folder/pending-PID-...), and if kpc is killed mid-commit they are
 * orphaned but complete, so the next apply must not read the state until
 * they have. They are found by that file name in their command lines, so
 * there is no moment in which a child runs unrecorded. The holder is known
 * by PID and start time (field 22 of /proc/PID/stat), so a recycled PID is
 * not mistaken for it.
 */
export interface LockRecord {
  pid: number;
  start: string;
}

export interface Lock {
  path: string;
  release(): void;
}

export class LockBusyError extends Error {}

export const LOCK_FILE = 'apply.lock';

export async function acquireLock(dir: string, waitMs = 30_000): Promise<Lock> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const path = join(dir, LOCK_FILE);
  const self: LockRecord = { pid: process.pid, start: startTime(process.pid) ?? '' };
  const deadline = Date.now() + waitMs;
  for (;;) {
    const fd = tryCreate(path);
    if (fd !== null) {
      writeSync(fd, JSON.stringify(self));
      closeSync(fd);
      return lockHandle(path, self);
    }
    const holder = readRecord(path);
    if (holder === 'missing') continue;
    if (holder === null || !holderAlive(holder, dir)) {
      // Stale: remove it and race for it again; O_EXCL lets only one contender win.
      if (removeIfSame(path, holder)) continue;
    }
    if (Date.now() >= deadline) {
      const who = holder ? `pid ${holder.pid}` : 'a process that is still starting';
      throw new LockBusyError(`another kpc apply (${who}) holds ${path}; waited ${Math.round(waitMs / 1000)} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function lockHandle(path: string, self: LockRecord): Lock {
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      const current = readRecord(path);
      if (current && current !== 'missing' && current.pid === self.pid && current.start === self.start) rmSync(path, { force: true });
    },
  };
}

function tryCreate(path: string): number | null {
  try {
    return openSync(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw error;
  }
}

/** The holder's record; null when the file is unreadable garbage (a holder killed between create and write). */
function readRecord(path: string): LockRecord | null | 'missing' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const record = JSON.parse(text) as LockRecord;
    return typeof record.pid === 'number' ? record : null;
  } catch {
    return null;
  }
}

/** Removes a stale lock file unless it changed since it was judged stale; true when it is gone. */
function removeIfSame(path: string, seen: LockRecord | null): boolean {
  const now = readRecord(path);
  if (now === 'missing') return true;
  // An empty or torn file: give a holder that has just created it a moment to write its record.
  if (seen === null && now === null && Date.now() - modifiedAt(path) < 2_000) return false;
  if (JSON.stringify(now) !== JSON.stringify(seen)) return false;
  rmSync(path, { force: true });
  return true;
}

function modifiedAt(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

export function holderAlive(record: LockRecord, dir: string): boolean {
  return processIs(record.pid, record.start) || committingFor(record.pid, dir).length > 0;
}

/** PIDs of processes whose command line names a pending rule file of apply `pid` (orphaned restores still committing). */
export function committingFor(pid: number, dir: string): number[] {
  const marker = `${dir.replace(/\/+$/, '')}/pending-${pid}-`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) found.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

function processIs(pid: number, start: string): boolean {
  const now = startTime(pid);
  return now !== null && (start === '' || now === start);
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), or null if no such process. */
export function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null;
  } catch {
    return null;
  }
}
