import { describe, expect, it } from 'vitest';
import { loadSources } from '../../src/load/documents.js';
import { locateField, locateWork } from '../../src/load/locate.js';

/** The line of `path` inside object `index` of `text`, as diagnostics report it. */
function lineIn(text: string, path: (string | number)[], index = 0, name = 'in.yaml'): number | null {
  const { objects, diagnostics } = loadSources([{ name, text }]);
  expect(diagnostics).toEqual([]);
  return locateField(objects[index]!.origin, path);
}

const MULTI = `# leading comment
apiVersion: v1
kind: Service
metadata:
  name: first
spec:
  ports:
    - port: 80
---
---
apiVersion: v1
kind: Service
metadata:
  name: second
spec:
  ports:
    - name: a
      port: 81
    - name: b
      port: 70000
`;

describe('locateField', () => {
  it('finds a field in the first document', () => {
    expect(lineIn(MULTI, ['spec', 'ports', 0, 'port'])).toBe(8);
    expect(lineIn(MULTI, ['metadata', 'name'])).toBe(5);
  });

  it('finds a field in a later document, after an empty one', () => {
    expect(lineIn(MULTI, ['spec', 'ports', 1, 'port'], 1)).toBe(20);
    expect(lineIn(MULTI, ['spec', 'ports', 1], 1)).toBe(19);
    expect(lineIn(MULTI, ['kind'], 1)).toBe(12);
  });

  it('falls back to the nearest enclosing field that exists', () => {
    expect(lineIn(MULTI, ['spec', 'ports', 0, 'targetPort'], 1)).toBe(17);
    expect(lineIn(MULTI, ['status', 'loadBalancer'], 1)).toBe(11);
  });

  it('finds an item of a JSON List', () => {
    const json = JSON.stringify({ kind: 'List', items: [{ kind: 'A', spec: { port: 1 } }, { kind: 'B', spec: { ports: [{ port: 2 }, { port: 70000 }] } }] }, null, 2);
    const expected = json.split('\n').findIndex((l) => l.includes('70000')) + 1;
    expect(lineIn(json, ['spec', 'ports', 1, 'port'], 1, 'list.json')).toBe(expected);
  });

  it('finds a field in flow style, and keys that need quoting', () => {
    const text = 'kind: Service\nmetadata: { name: web,\n  annotations: { "a b/c": x } }\nspec: { ports: [ { port: 1 },\n  { port: 2 } ] }\n';
    expect(lineIn(text, ['spec', 'ports', 1, 'port'])).toBe(5);
    expect(lineIn(text, ['metadata', 'annotations', 'a b/c'])).toBe(3);
  });

  it('counts lines the same with CRLF line ends', () => {
    expect(lineIn(MULTI.replace(/\n/g, '\r\n'), ['spec', 'ports', 1, 'port'], 1)).toBe(20);
  });

  it('finds a field under a key repeated at another level', () => {
    const text = 'kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      ports:\n        - name: name\n          containerPort: 80\n';
    expect(lineIn(text, ['spec', 'containers', 0, 'ports', 0, 'name'])).toBe(8);
    expect(lineIn(text, ['spec', 'containers', 0, 'name'])).toBe(6);
  });

  it('finds a field in a block scalar document after a multi-line string', () => {
    const text = 'kind: Service\nmetadata:\n  annotations:\n    note: |\n      line one\n      line two\n  name: web\n';
    expect(lineIn(text, ['metadata', 'name'])).toBe(7);
  });
});

/** A counter, not a clock: finding every object's line must cost the text once, not once per object. */
describe('locateField cost', () => {
  const documents = (n: number): string => {
    let text = '';
    for (let i = 0; i < n; i++) text += `---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d${i}\n`;
    return text;
  };

  const work = (n: number): number => {
    const { objects } = loadSources([{ name: 'in.yaml', text: documents(n) }]);
    const before = locateWork.steps;
    objects.forEach((o, i) => expect(locateField(o.origin, ['kind'])).toBe(5 * i + 3));
    return locateWork.steps - before;
  };

  it('grows linearly with the input: ten times the documents, about ten times the work', () => {
    const small = work(1000);
    const large = work(10_000);
    expect(large / small).toBeLessThan(13);
  });
});
