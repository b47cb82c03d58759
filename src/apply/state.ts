import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { UdpFrontend } from './conntrack.js';

/**
 * What kpc remembers between applies, in the run folder (/run/kpc, a tmpfs:
 * it goes with a reboot, as the rules do). Only what the kernel state cannot
 * tell back cheaply: the UDP frontends and their endpoints (for conntrack
 * cleanup) and the IPVS virtual services kpc created (node ports included,
 * whose addresses are not on kube-ipvs0).
 *
 * It is written before a commit as the union of old and new, and after it as
 * the new alone: an apply killed in between leaves a record that names too
 * much, never too little, and too much only costs a conntrack -D that
 * matches nothing.
 */
export interface ApplyRecord {
  version: 1;
  udp: UdpFrontend[];
  ipvsServices: string[];
  /** IPVS frontends (as src/read keys them) to their Service `ns/name`: IPVS rules name none, and a removed one is still counted by name. */
  ipvsNames?: Record<string, string>;
}

export const STATE_FILE = 'state.json';

export async function readRecord(dir: string): Promise<ApplyRecord> {
  try {
    const record = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as ApplyRecord;
    if (record.version === 1 && Array.isArray(record.udp) && Array.isArray(record.ipvsServices)) return record;
  } catch {
    /* missing or unreadable: nothing remembered */
  }
  return { version: 1, udp: [], ipvsServices: [] };
}

export async function writeRecord(dir: string, record: ApplyRecord): Promise<void> {
  const path = join(dir, STATE_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, JSON.stringify(record) + '\n', { mode: 0o644 });
    await rename(temporary, path);
  } finally {
    await rm(temporary, { force: true });
  }
}

/** Old and new together: what a record must name while a commit may or may not have happened. */
export function unionRecord(a: ApplyRecord, b: ApplyRecord): ApplyRecord {
  const udp = new Map(a.udp.map((f) => [f.key, f]));
  for (const f of b.udp) {
    const seen = udp.get(f.key);
    udp.set(f.key, seen ? { ...f, endpoints: [...new Set([...seen.endpoints, ...f.endpoints])].sort() } : f);
  }
  return {
    version: 1,
    udp: [...udp.values()].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0)),
    ipvsServices: [...new Set([...a.ipvsServices, ...b.ipvsServices])].sort(),
    ipvsNames: sortedKeys({ ...a.ipvsNames, ...b.ipvsNames }),
  };
}

function sortedKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}
