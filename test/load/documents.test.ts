import { describe, expect, it } from 'vitest';
import { loadSources } from '../../src/load/documents.js';
import { locateField } from '../../src/load/locate.js';
import { problems } from '../helpers/manifests.js';

const load = (text: string, name = 'in.yaml') => loadSources([{ name, text }]);
const values = (text: string, name?: string) => load(text, name).objects.map((o) => o.value);

describe('loadSources', () => {
  it('reads every document of a multi-document YAML, skipping empty ones', () => {
    const text = '---\n# only a comment\n---\na: 1\n---\n---\nb: 2\n...\n---\nc: 3\n---\n';
    const { objects, diagnostics } = load(text);
    expect(diagnostics).toEqual([]);
    expect(objects.map((o) => o.value)).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
    // Document indexes count the empty documents, so positions stay right.
    expect(objects.map((o) => o.origin.documentIndex)).toEqual([1, 3, 4]);
    expect(objects.map((o) => locateField(o.origin, []))).toEqual([4, 7, 10]);
  });

  it('reads an empty file, or one of comments only, as no objects', () => {
    expect(load('').objects).toEqual([]);
    expect(load('# nothing\n\n').objects).toEqual([]);
    expect(load('---\n---\n').objects).toEqual([]);
  });

  it('reads JSON, including a byte order mark', () => {
    expect(values('\uFEFF{ "kind": "Service", "n": [1, 2] }', 'a.json')).toEqual([{ kind: 'Service', n: [1, 2] }]);
  });

  it('unwraps kind: List and any *List in JSON and YAML, recording where each item sits', () => {
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ kind: 'Service' }, { kind: 'ServiceList', items: [{ kind: 'Pod' }] }] });
    const { objects } = load(json, 'list.json');
    expect(objects.map((o) => o.value)).toEqual([{ kind: 'Service' }, { kind: 'Pod' }]);
    expect(objects.map((o) => o.origin.pathInDocument)).toEqual([['items', 0], ['items', 1, 'items', 0]]);
    const yaml = 'apiVersion: v1\nkind: PodList\nitems:\n  - kind: Pod\n  - kind: Pod\n';
    // A typed list's items take its apiVersion when they name none (see typed-list.test.ts).
    expect(values(yaml)).toEqual([{ kind: 'Pod', apiVersion: 'v1' }, { kind: 'Pod', apiVersion: 'v1' }]);
  });

  it('reads a List with no items as no objects', () => {
    expect(values('apiVersion: v1\nkind: List\nitems: []\n')).toEqual([]);
  });

  it('reads a top-level sequence as its elements', () => {
    expect(values('- kind: A\n- kind: B\n')).toEqual([{ kind: 'A' }, { kind: 'B' }]);
  });

  it('reads flow-style YAML that is not strict JSON', () => {
    expect(values("{ kind: Service, metadata: { name: 'web', }, }")).toEqual([{ kind: 'Service', metadata: { name: 'web' } }]);
  });

  it('reports broken YAML once, with its line and what to do', () => {
    const { objects, diagnostics } = load('a: 1\n---\nb: [1, 2\nc: 3\n', 'broken.yaml');
    expect(objects).toEqual([]);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ severity: 'error', file: 'broken.yaml', object: null, field: null });
    expect(diagnostics[0]!.line).toBeGreaterThanOrEqual(3);
    expect(diagnostics[0]!.message).toMatch(/^not valid YAML or JSON: .+; fix the syntax at this line$/);
  });

  it('reports a duplicate key, which would make the value depend on the parser', () => {
    const { diagnostics } = load('kind: Service\nmetadata:\n  name: a\n  name: b\n');
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.line).toBe(4);
    expect(diagnostics[0]!.message).toMatch(/duplicate|duplicated/);
  });

  it('reports broken JSON at its line', () => {
    const { diagnostics } = load('{\n  "kind": "Service",\n  "metadata": {\n    "name": "web"\n  \n', 'broken.json');
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.message).toMatch(/^not valid YAML or JSON/);
    expect(diagnostics[0]!.line).toBeGreaterThanOrEqual(4);
  });

  it('keeps reading the other files after one is broken', () => {
    const { objects, diagnostics } = loadSources([
      { name: 'bad.yaml', text: 'a: [' },
      { name: 'good.yaml', text: 'kind: Service\n' },
    ]);
    expect(diagnostics.map((d) => d.file)).toEqual(['bad.yaml']);
    expect(objects.map((o) => o.origin.source.name)).toEqual(['good.yaml']);
  });

  it('refuses a list that nested aliases expand to billions of objects, as Kubernetes does', () => {
    const levels = 'abcdefghi'.split('');
    const text = levels.map((name, i) => `- &${name} [${Array(9).fill(i === 0 ? '{ kind: Pod }' : `*${levels[i - 1]}`).join(', ')}]`).join('\n');
    const { objects, diagnostics } = load(`${text}\n`, 'laughs.yaml');
    expect(objects).toEqual([]);
    expect(diagnostics.map((d) => d.message)).toEqual([expect.stringMatching(/^excessive aliasing: .*; expand the aliases or simplify$/)]);
  });

  it('unwraps a list repeated through an alias once, and says so', () => {
    const { objects, diagnostics } = load('- &pods [{ kind: Pod }, { kind: Pod }]\n- *pods\n- *pods\n', 'twice.yaml');
    expect(objects).toHaveLength(2);
    expect(diagnostics.map((d) => `${d.line}: ${d.message}`)).toEqual(['2: repeats a list already read (through a YAML alias); write each object out once']);
  });

  it('reports lists nested deeper than YAML allows, rather than overflowing the stack', () => {
    const { objects, diagnostics } = load(`${'['.repeat(200_000)}${']'.repeat(200_000)}`, 'deep.json');
    expect(objects).toEqual([]);
    expect(diagnostics.map((d) => d.message)).toEqual(['holds lists nested more than 100 deep; kpc reads objects, Lists of objects and sequences of objects']);
  });

  it('reads an object repeated through an alias as two objects, which validation then calls duplicates', () => {
    const text = '- &svc { apiVersion: v1, kind: Service, metadata: { name: web }, spec: { ports: [{ port: 80 }] } }\n- *svc\n';
    expect(load(text).objects).toHaveLength(2);
    expect(problems({ 'a.yaml': text }).errors.map((e) => e.message)).toEqual(['is defined twice (first at a.yaml:1); remove one copy']);
  });

  it('leaves documents that are not objects to validation, which rejects them', () => {
    const { errors } = problems({ 'odd.yaml': 'just a string\n---\n42\n---\n[1]\n' });
    expect(errors.map((e) => e.message)).toEqual(Array(3).fill('is not a Kubernetes object (expected a mapping with apiVersion, kind and metadata)'));
  });
});
