import { describe, expect, it } from 'vitest';
import { loadSources } from '../../src/load/documents.js';
import { validateObjects } from '../../src/validate/index.js';
import { formatDiagnostic } from '../../src/diagnostics/diagnostic.js';

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: 10.96.0.1000
  selector:
    app: web
    bad: placeholder
  ports:
    - name: http
      port: 80
    - name: other
      port: placeholder
`;

/** A value that counts every look inside it: what the checks do with a field, not how long they take. */
function watched(value: object): { value: object; looks: () => number } {
  let looks = 0;
  const handler: ProxyHandler<object> = {
    get: (target, key, receiver) => (looks++, Reflect.get(target, key, receiver)),
    ownKeys: (target) => (looks++, Reflect.ownKeys(target)),
    has: (target, key) => (looks++, Reflect.has(target, key)),
  };
  return { value: new Proxy(value, handler), looks: () => looks };
}

describe('an object the schema rejects', () => {
  it('gets no semantic check on the fields the schema rejected (a selector value that is a huge list is never turned into a string)', () => {
    const [loaded] = loadSources([{ name: 'a.yaml', text: SERVICE }]).objects;
    const spec = (loaded!.value as { spec: { selector: Record<string, unknown>; ports: unknown[] } }).spec;
    const selectorValue = watched(['lol', ['lol', 'lol']]);
    const portValue = watched({ nested: 'port' });
    spec.selector.bad = selectorValue.value;
    (spec.ports[1] as { port: unknown }).port = portValue.value;
    const { diagnostics } = validateObjects([loaded!]);
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      'a.yaml:9: Service default/web: spec.selector.bad: must be a string, got a list ',
      'a.yaml:14: Service default/web: spec.ports[1].port: must be an integer, got an object ',
      'a.yaml:6: Service default/web: spec.clusterIP: "10.96.0.1000" is not a valid IP address',
    ]);
    // The schema looks once to see the type; nothing after it looks inside.
    expect(selectorValue.looks()).toBeLessThanOrEqual(2);
    expect(portValue.looks()).toBeLessThanOrEqual(2);
  });

  it('still gets every semantic check on its other fields, in one run', () => {
    const text = SERVICE.replace('bad: placeholder', 'bad: [1]').replace('port: placeholder', 'port: 81').replace('    app: web\n', '    "a b": web\n');
    const { diagnostics } = validateObjects(loadSources([{ name: 'a.yaml', text }]).objects);
    expect(diagnostics.map((d) => d.field)).toEqual(['spec.selector.bad', 'spec.selector["a b"]', 'spec.clusterIP']);
  });
});
