import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { dump } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { readInputs } from '../src/cli/inputs.js';
import type { Mode } from '../src/compile.js';
import type { RoutingGraph } from '../src/graph/types.js';
import { loadSources } from '../src/load/documents.js';
import { kpc, tempDir, ROOT } from './helpers/cli.js';
import { compileFixture, fixtureCases, render, type FixtureCase } from './helpers/fixtures.js';
import { NODE_FLAGS } from './helpers/manifests.js';
import { random } from './helpers/random.js';

/**
 * The output depends on what the objects say, never on how they were handed
 * over: the bundled example and every fixture, their objects shuffled into
 * random orders and split into several files in random ways (multi-document
 * YAML, JSON, kind: List in either, nested folders, keys reordered), must
 * compile to byte-identical output in every mode.
 *
 * The shuffles are seeded. To reproduce a failure, or to try other orders:
 *   KPC_SEED=12345 npx vitest run test/determinism.test.ts
 */

const BASE_SEED = Number(process.env.KPC_SEED ?? 20261124);
const VARIANTS = 6;

function shuffle<T>(items: T[], rnd: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The same value with every mapping's keys in a random order; sequences keep theirs. */
function shuffleKeys(value: unknown, rnd: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, rnd));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(shuffle(Object.entries(value), rnd).map(([k, v]) => [k, shuffleKeys(v, rnd)]));
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

type Format = 'yaml' | 'yaml-list' | 'json' | 'json-list';

function serialize(objects: unknown[], format: Format): string {
  switch (format) {
    case 'yaml':
      return objects.map((o) => dump(o, { noRefs: true, lineWidth: -1 })).join('---\n');
    case 'yaml-list':
      return dump({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: objects }, { noRefs: true, lineWidth: -1 });
    case 'json':
      // One object per JSON file; several become a top-level array, which kpc reads like a List.
      return JSON.stringify(objects.length === 1 ? objects[0] : objects, null, 2);
    case 'json-list':
      return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: objects }, null, 4)}\n`;
  }
}

/**
 * Writes the objects into `dir` as 1 to 5 files of random formats, random
 * names and random depths, so that both the order inside a file and the
 * order in which the folder is read change.
 */
function scatter(objects: unknown[], dir: string, rnd: () => number): void {
  const reorderKeys = rnd() < 0.5;
  const order = shuffle(objects, rnd).map((o) => (reorderKeys ? shuffleKeys(o, rnd) : o));
  const files = 1 + Math.floor(rnd() * Math.min(5, order.length));
  const groups: unknown[][] = Array.from({ length: files }, () => []);
  order.forEach((o, i) => groups[i < files ? i : Math.floor(rnd() * files)]!.push(o));
  const formats: Format[] = ['yaml', 'yaml-list', 'json', 'json-list'];
  groups.forEach((group, i) => {
    const format = formats[Math.floor(rnd() * formats.length)]!;
    const depth = Math.floor(rnd() * 3);
    const folders = Array.from({ length: depth }, () => `d${Math.floor(rnd() * 100)}`);
    const name = `${Math.floor(rnd() * 1e6).toString(36)}-${i}.${format.startsWith('json') ? 'json' : rnd() < 0.5 ? 'yaml' : 'yml'}`;
    const path = join(dir, ...folders, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, serialize(group, format));
  });
}

const MODES: { name: string; mode: Mode; family?: 4 | 6; layout?: 'compact'; when?: (g: RoutingGraph) => boolean }[] = [
  { name: 'iptables', mode: 'iptables', family: 4 },
  { name: 'ip6tables', mode: 'iptables', family: 6, when: (g) => g.servicePorts.some((p) => p.family === 6) },
  { name: 'nftables', mode: 'nftables' },
  { name: 'nftables-compact', mode: 'nftables', layout: 'compact' },
  { name: 'ipvs', mode: 'ipvs' },
];

/** Every output the graph has, by mode; modes not implemented yet are left out. */
function outputs(graph: RoutingGraph): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of MODES) {
    if (m.when && !m.when(graph)) continue;
    try {
      out[m.name] = render(graph, m.mode, m.family, m.layout);
    } catch (error) {
      if (!/not implemented/.test(String(error))) throw error;
    }
  }
  return out;
}

/** The objects' order, as `Kind namespace/name` lines. */
function identities(objects: unknown[]): string {
  return objects
    .map((o) => {
      const { kind, metadata } = o as { kind?: string; metadata?: { name?: string; namespace?: string } };
      return `${kind} ${metadata?.namespace ?? ''}/${metadata?.name ?? ''}`;
    })
    .join('\n');
}

const EXAMPLE: FixtureCase = {
  name: 'examples/shop',
  dir: join(ROOT, 'examples', 'shop'),
  inputs: readdirSync(join(ROOT, 'examples', 'shop')).sort().map((f) => join(ROOT, 'examples', 'shop', f)),
  args: NODE_FLAGS,
};

const work = tempDir('kpc-determinism-');

describe(`determinism (KPC_SEED=${BASE_SEED})`, () => {
  for (const fixture of [EXAMPLE, ...fixtureCases()]) {
    it(`${fixture.name}: ${VARIANTS} shuffles and splits give byte-identical output`, async () => {
      const baseline = outputs(await compileFixture(fixture));
      expect(Object.keys(baseline)).toContain('iptables');
      const sources = fixture.inputs.map((file) => ({ name: file, text: readFileSync(file, 'utf8') }));
      const loaded = loadSources(sources);
      expect(loaded.diagnostics).toEqual([]);
      const objects = loaded.objects.map((o) => o.value);
      const orders = new Set<string>([identities(objects)]);
      for (let variant = 0; variant < VARIANTS; variant++) {
        const seed = (BASE_SEED + hash(fixture.name) + variant) >>> 0;
        const dir = join(work, fixture.name.replace(/\W/g, '_'), String(variant));
        scatter(objects, dir, random(seed));
        const scattered = await readInputs([dir]);
        orders.add(identities(loadSources(scattered).objects.map((o) => o.value)));
        const files = scattered.map((s) => s.name);
        const actual = outputs(await compileFixture({ ...fixture, inputs: files }));
        for (const [mode, text] of Object.entries(baseline)) {
          expect(actual[mode], `${mode} differs for seed ${seed}; the input is in ${dir}`).toBe(text);
        }
      }
      // The test proves something only if the objects did reach the compiler in other orders.
      if (objects.length > 1) expect(orders.size).toBeGreaterThan(1);
    });
  }

  it('kpc generate on a scattered copy of examples/shop prints what it prints for the original', async () => {
    const loaded = loadSources(EXAMPLE.inputs.map((file) => ({ name: file, text: readFileSync(file, 'utf8') })));
    const dir = join(work, 'cli');
    scatter(loaded.objects.map((o) => o.value), dir, random(BASE_SEED));
    const args = ['generate', '--mode', 'iptables', ...NODE_FLAGS];
    const [original, scattered] = await Promise.all([kpc([...args, '-f', EXAMPLE.dir]), kpc([...args, '-f', dir])]);
    expect(original.exitCode, original.stderr).toBe(0);
    expect(scattered.exitCode, scattered.stderr).toBe(0);
    expect(scattered.stdout).toBe(original.stdout);
  });
});
