import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph, emit } from '../../src/compile.js';
import type { NodeOptions } from '../../src/graph/node-context.js';
import { readRuleSet } from '../../src/read/index.js';
import { plain } from '../helpers/model.js';
import { knftablesLines, sortTransaction } from '../helpers/nft-transaction.js';

/**
 * Cases of kube-proxy's own nftables unit tests, their Go-built objects
 * translated into manifests (input.yaml, translation notes at its top),
 * NewFakeProxier's node facts into options (args.json), and kube-proxy's
 * expected dump kept as the golden text (expected.nft). kpc's output must be
 * the same transaction compared the way kube-proxy's assertion compares.
 */

const CASES = join(import.meta.dirname, 'kube-proxy-cases');

describe("kube-proxy's nftables unit-test cases", () => {
  for (const name of readdirSync(CASES).sort()) {
    it(name, () => {
      const dir = join(CASES, name);
      const args = JSON.parse(readFileSync(join(dir, 'args.json'), 'utf8')) as { family: 4 | 6; options: NodeOptions };
      const { graph } = compileGraph([{ name: 'input.yaml', text: readFileSync(join(dir, 'input.yaml'), 'utf8') }], args.options);
      const written = emit(graph, { mode: 'nftables', family: args.family });
      const expected = readFileSync(join(dir, 'expected.nft'), 'utf8');
      expect(sortTransaction(knftablesLines(written))).toEqual(sortTransaction(expected));
      // A node running this kube-proxy reads back (kpc diff --live) as the same model as kpc's file.
      const model = readRuleSet(expected);
      expect(plain(model)).toEqual(plain(readRuleSet(written)));
      expect(model.unallocatedDrop).toEqual(readRuleSet(written).unallocatedDrop);
      expect(model.frontends.size).toBeGreaterThan(10);
    });
  }

  it('the comparison keeps each chain\'s rule order and ignores everything else', () => {
    const a = 'add chain ip t c\nadd rule ip t c a\nadd rule ip t c b\nadd element ip t s { 2 }\nadd element ip t s { 1 }\n';
    expect(sortTransaction(a)).toEqual(sortTransaction('# x\nadd element ip t s { 1 }\n\nadd rule ip t c a\nadd chain ip t c\nadd element ip t s { 2 }\nadd rule ip t c b\n'));
    expect(sortTransaction(a)).not.toEqual(sortTransaction('add chain ip t c\nadd rule ip t c b\nadd rule ip t c a\nadd element ip t s { 2 }\nadd element ip t s { 1 }\n'));
    expect(knftablesLines('add table ip t\ndelete table ip t\nadd element ip t s {\n\t1,\n\t2 . tcp,\n}\n')).toBe('add element ip t s { 1 }\nadd element ip t s { 2 . tcp }\n');
  });
});
