import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { dump, loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { generateCluster } from '../../bench/generate-cluster.js';
import { loadBlockYaml, readBlockYaml } from '../../src/load/block-yaml.js';
import { KUBECTL_SCHEMA } from '../../src/load/kubectl-schema.js';
import { random } from '../helpers/random.js';

/** js-yaml's answer with kubectl's scalar rules: the documents, or 'error'. */
function reference(text: string): unknown[] | 'error' {
  try {
    return loadAll(text, null, { schema: KUBECTL_SCHEMA });
  } catch {
    return 'error';
  }
}

/**
 * The contract: the subset reader either declines (null) or gives exactly
 * js-yaml's documents, and it declines whatever js-yaml rejects.
 */
function agrees(text: string): { handled: boolean; ok: boolean; ref: unknown; fast: unknown } {
  const ref = reference(text);
  const fast = loadBlockYaml(text);
  if (fast === null) return { handled: false, ok: true, ref, fast };
  return { handled: true, ok: ref !== 'error' && isDeepStrictEqual(fast, ref), ref, fast };
}

function expectAgreement(text: string): boolean {
  const result = agrees(text);
  if (!result.ok) expect({ text, fast: result.fast }).toEqual({ text, fast: result.ref });
  return result.handled;
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

const TRICKY = [
  '', ' ', 'x', 'web', 'kube-system', 'a b', ' lead', 'trail ', '#', 'a #b', 'a#b', ':', 'a: b', 'a:b', 'http://x:80/y', '-', '- x', '-x', '?', '? x',
  'null', 'Null', 'NULL', '~', 'true', 'True', 'false', 'FALSE', 'yes', 'no', 'on', '0', '00', '012', '08', '-0', '+1', '1_000', '0x1F', '0o17', '0b11',
  'y', 'N', 'On', 'OFF', 'yES', '0120', '-0120', '0X1f', '-0x1F', '+.inf', '80.0', '1.', '1e400', '.5_5', '9223372036854775808', '18446744073709551616', '1_0.5', 'n', 'Y',
  '1e3', '1.5', '.5', '.inf', '-.Inf', '.nan', '2024-01-01', '2024-01-01T10:00:00Z', '10.0.0.1', '10.0.0', '10.0.0.0/8', '1/2', '2024-01-01/x', 'fd00::1', '2001:db8::1', '99999999999999999999',
  '|', '>', '|-', '[]', '{}', '[a, b]', '{a: 1}', '&a', '*a', '!tag', '%x', '@x', '`x', "it's", 'say "hi"', 'back\\slash', 'a\nb', 'a\n\nb\n', 'line\n',
  '570820f3-ad0f-4504', '12ab', '1e3x', '0x1g', '0b12', '1_0a', '2024-01-01t10:00:00z', '2024-01-01 10:00:00', '9zz', 'tab\there', 'ünï', '日本', '<<', '__proto__', 'toString', 'constructor', '---', '...', 'x\u0085y', 'emoji 🎉',
];

function randomScalar(next: () => number): unknown {
  const r = next();
  if (r < 0.55) return TRICKY[Math.floor(next() * TRICKY.length)];
  if (r < 0.7) return Math.floor(next() * 70000);
  if (r < 0.75) return next() < 0.5;
  if (r < 0.8) return null;
  return `v${Math.floor(next() * 1000)}`;
}

function randomValue(next: () => number, depth: number): unknown {
  const r = next();
  if (depth > 3 || r < 0.45) return randomScalar(next);
  if (r < 0.75) {
    const mapping: Record<string, unknown> = {};
    const size = Math.floor(next() * 5);
    for (let i = 0; i < size; i++) {
      const key = next() < 0.6 ? `k${Math.floor(next() * 8)}` : String(randomScalar(next));
      mapping[key] = randomValue(next, depth + 1);
    }
    return mapping;
  }
  return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
}

/** Several documents written by js-yaml's own dumper with assorted options. */
function randomText(next: () => number): string {
  const documents = Array.from({ length: 1 + Math.floor(next() * 3) }, () => randomValue(next, 0));
  return documents
    .map((document) =>
      dump(document, {
        indent: 1 + Math.floor(next() * 4),
        noArrayIndent: next() < 0.5,
        flowLevel: next() < 0.2 ? 1 : -1,
        quotingType: next() < 0.5 ? "'" : '"',
        forceQuotes: next() < 0.1,
        lineWidth: next() < 0.2 ? 20 : -1,
      }),
    )
    .map((text, i) => (i === 0 && next() < 0.5 ? text : `---\n${text}`))
    .join('');
}

const MUTATION_CHARACTERS = [' ', ' ', '  ', '-', ':', ': ', '#', ' #', '"', "'", '\n', '|', '|-', '{', '}', '[', '\t', 'x', '0', '.', '---\n', '\r', '\\', '&a ', '*a', '!!str ', '>', '? ', '<<: ', '~', '...\n', '%'];

/** One random edit: insert, delete, re-indent, duplicate or drop a line. */
function mutate(text: string, next: () => number): string {
  const at = Math.floor(next() * (text.length + 1));
  const r = next();
  if (r < 0.35) return text.slice(0, at) + MUTATION_CHARACTERS[Math.floor(next() * MUTATION_CHARACTERS.length)] + text.slice(at);
  if (r < 0.6) return text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 3));
  const lines = text.split('\n');
  const line = Math.floor(next() * lines.length);
  if (r < 0.8) lines[line] = next() < 0.5 ? ` ${lines[line]}` : lines[line]!.replace(/^ /, '');
  else if (r < 0.9) lines.splice(line, 0, lines[line]!);
  else lines.splice(line, 1);
  return lines.join('\n');
}

describe('loadBlockYaml', () => {
  it.each([
    ['kubectl layout', 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n  selector:\n    app: web\n'],
    ['indented sequences', 'a:\n  - 1\n  - x: 2\n    y: "3"\n'],
    ['documents and comments', '# head\n---\na: 1 # trailing\n# between\nb: [] \n---\n---\nc: {}\n'],
    ['literal scalars', 'a: |\n  {"x": 1}\n\n  y\nb: |-\n  z\n   more\nc: 1\n'],
    ['nested sequences', '- - 1\n  - 2\n- -\n  - 3\n-\n- x\n'],
    ['single quotes', "a: 'it''s'\n'b c': '#'\n"],
    ['scalars js-yaml resolves', 'a: 0123\nb: 1e3\nc: .inf\nd: ~\ne: 2024-01-01\nf: 0x1F\ng: -0\nh: 10.0.0.1\ni: True\nj: 2024-01-01T10:00:00Z\nk: 2024-01-01t10:00:00.5+02:00\nl: 0xfF\nm: 0o17\nn: 0b101\no: 570820f3-ad0f\np: 1e3x\nq: 12E4\n'],
    ['keys js-yaml resolves', '1: a\n~: b\ntrue: d\n0x1F: e\n'],
    ['empty values', 'a:\nb:\n  c:\nd: # note\n- 1\n'],
    ['text beyond ASCII', '---\nname: ünï\nzone: 日本\n"ключ": значение\n---\nascii: only\n'],
  ])('reads %s exactly as js-yaml does', (_, text) => {
    expect(loadBlockYaml(text)).not.toBeNull();
    expectAgreement(text);
  });

  it('reads block YAML beyond ASCII itself, handing no document to js-yaml', () => {
    // Its character codes are a Uint16Array, not the Latin-1 bytes of ASCII text.
    const text = '---\nname: ünï\nzone: 日本\nlist:\n- "ключ": значение\n  num: 1\n---\nascii: only\n';
    expect(readBlockYaml(text)).toEqual({ documents: [{ name: 'ünï', zone: '日本', list: [{ ключ: 'значение', num: 1 }] }, { ascii: 'only' }], handedToJsYaml: 0 });
  });

  it.each([
    ['an anchor and alias', 'a: &x 1\nb: *x\n'],
    ['a tag', 'a: !!str 1\n'],
    ['a flow mapping', 'a: {b: 1}\n'],
    ['a folded scalar', 'a: >\n  b\n'],
    ['a multi-line plain scalar', 'a: b\n  c\n'],
    ['an escape', 'a: "\\u0041"\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a merge key', 'a: &x {b: 1}\nc:\n  <<: *x\n'],
    ['a directive', '%YAML 1.2\n---\na: 1\n'],
    ['a document end marker', 'a: 1\n...\n'],
    ['CR line ends', 'a: 1\r\nb: 2\r\n'],
    ['a tab', 'a:\t1\n'],
    ['a control character', 'a: \u0001\n'],
    ['bad indentation', 'a:\n  b: 1\n c: 2\n'],
    ['a key and a value on one line after a key', 'a: b: c\n'],
    ['an empty entry before a less indented one (js-yaml reads it into the inner sequence)', '- - a\n  -\n- b\n'],
    ['an empty first document', '# only a comment\n'],
  ])('leaves %s to js-yaml', (_, text) => {
    // Declined as a whole, or that one document read by js-yaml itself.
    expectAgreement(text);
    expect(loadBlockYaml(`${text}---\nok: 1\n`)?.at(-1) ?? 'declined').toEqual(reference(`${text}---\nok: 1\n`) === 'error' ? 'declined' : expect.anything());
  });

  it('declines a document js-yaml rejects, so that js-yaml reports it on the right line', () => {
    expect(loadBlockYaml('a: 1\n---\nb: [1, 2\n')).toBeNull();
    expect(loadBlockYaml('a: 1\n---\n"a": 1\na: 2\n')).toBeNull();
  });

  it('leaves deep nesting to js-yaml, which has a limit of its own, instead of running out of stack', () => {
    const nested = (depth: number) => Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + '\n';
    for (const depth of [80, 95, 120, 20000]) expectAgreement(nested(depth));
    expect(loadBlockYaml(nested(20000))).toBeNull();
    expect(loadBlockYaml(`${'- '.repeat(20000)}x\n`)).toBeNull();
    expect(loadBlockYaml(nested(80))).not.toBeNull();
  });

  it('reads every bundled fixture and example as js-yaml does (their flow-style documents through js-yaml)', () => {
    const files = [...filesUnder('fixtures'), ...filesUnder('examples')];
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(expectAgreement(text), file).toBe(true);
    }
  });

  it('reads generated clusters (slices and pods) itself, as js-yaml does', () => {
    for (const endpointSource of ['slices', 'pods'] as const) {
      const { text } = generateCluster({ servicePorts: 150, endpointSource, seed: 3 });
      expect(expectAgreement(text)).toBe(true);
      expect(readBlockYaml(text)?.handedToJsYaml).toBe(0);
    }
  });

  it('agrees with js-yaml on random documents from its own dumper', () => {
    const next = random(1);
    let handled = 0;
    for (let i = 0; i < 1500; i++) if (expectAgreement(randomText(next))) handled++;
    // The comparison only means something if the subset reader answered for most of them.
    expect(handled).toBeGreaterThan(600);
  });

  it('agrees with js-yaml on randomly damaged documents, declining all that js-yaml rejects', () => {
    const next = random(2);
    const seeds = [
      generateCluster({ servicePorts: 3, seed: 5 }).text,
      'a:\n  - 1\n  - x: 2\n    y: "3"\nb: |\n  text\n  more\nc: \'q\'\n',
      ...Array.from({ length: 20 }, () => randomText(next)),
    ];
    let handled = 0;
    let rejected = 0;
    for (let i = 0; i < 4000; i++) {
      let text = seeds[i % seeds.length]!;
      const edits = 1 + Math.floor(next() * 3);
      for (let e = 0; e < edits; e++) text = mutate(text, next);
      if (reference(text) === 'error') rejected++;
      if (expectAgreement(text)) handled++;
    }
    expect(handled).toBeGreaterThan(1000);
    expect(rejected).toBeGreaterThan(200);
  });
});
