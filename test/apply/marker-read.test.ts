import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Target } from '../../src/apply/exec.js';
import { keepLoaded, nftMarkerUpdate } from '../../src/apply/generation.js';
import { findNft } from '../../src/apply/incremental.js';
import { assertOwnTablesOnly } from '../../src/apply/nftables.js';

// Knowing what is loaded must not list the table: nft 1.0 fetches every set
// and element of a table for `nft list tables` or `nft list chain` (5 s at
// 10,000 service ports in the compact layout). The incremental path asks
// only for the marker sets, and for a table only where no marker was read.

const TEXT = 'add table ip kube-proxy\ndelete table ip kube-proxy\nadd table ip kube-proxy { comment "rules for kube-proxy" ; }\nadd chain ip kube-proxy c\nadd rule ip kube-proxy c counter\n';
const NEXT = TEXT.replace('counter', 'counter accept');

function fakeHost(sets: Record<string, string>, tables: string[]): { target: Target; asked: string[] } {
  const asked: string[] = [];
  const target: Target = {
    prefix: [],
    description: 'a fake host',
    async exec(argv) {
      asked.push(argv.join(' '));
      const [, verb, kind, family, table, name] = argv;
      if (verb === 'list' && kind === 'set' && sets[`${family} ${table} ${name}`]) return { stdout: sets[`${family} ${table} ${name}`]!, stderr: '', exitCode: 0 };
      if (verb === 'list' && kind === 'flowtables') return { stdout: tables.filter((t) => t.startsWith(`${family} `)).map((t) => `table ${t} {\n}\n`).join(''), stderr: '', exitCode: 0 };
      return { stdout: '', stderr: 'Error: No such file or directory', exitCode: 1 };
    },
  };
  return { target, asked };
}

const listing = (hash: string) => `table ip kube-proxy {\n\tset kpc-generation {\n\t\ttype inet_service\n\t\telements = { 0 comment "kpc ${hash}" }\n\t}\n}\n`;

describe('the incremental path reads the generation marker without listing a table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kpc-marker-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('asks for the marker sets and for the one table it found none in; plans from the kept text', async () => {
    const hash = await keepLoaded(dir, 'nftables', TEXT);
    const { target, asked } = fakeHost({ 'ip kube-proxy kpc-generation': listing(hash) }, ['ip kube-proxy']);
    const job = await findNft(target, dir, NEXT);
    expect(job?.transaction).toContain('add rule ip kube-proxy c counter accept');
    expect(job?.transaction).toContain(nftMarkerUpdate('ip', 'kube-proxy', job!.afterHash));
    expect(asked.sort()).toEqual(['nft list flowtables ip6', 'nft list set ip kube-proxy kpc-generation', 'nft list set ip6 kube-proxy kpc-generation']);
  });

  it('a kube-proxy table with no marker kpc can read means a full load', async () => {
    const hash = await keepLoaded(dir, 'nftables', TEXT);
    const { target } = fakeHost({ 'ip kube-proxy kpc-generation': listing(hash) }, ['ip kube-proxy', 'ip6 kube-proxy']);
    expect(await findNft(target, dir, NEXT)).toBeNull();
    expect(await findNft(fakeHost({ 'ip kube-proxy kpc-generation': listing(hash).replace('}\n\t}', ', 1 comment "kpc 0123456789abcdef0123456789abcdef" }\n\t}') }, ['ip kube-proxy']).target, dir, NEXT)).toBeNull();
  });

  it('the marker update passes the structural guard', () => {
    expect(() => assertOwnTablesOnly(nftMarkerUpdate('ip', 'kube-proxy', '0123456789abcdef0123456789abcdef'))).not.toThrow();
  });
});
