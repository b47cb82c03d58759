import { describe, expect, it } from 'vitest';
import { aliasWork, excessiveAliasing } from '../../src/load/aliasing.js';
import { loadSources } from '../../src/load/documents.js';
import { load } from 'js-yaml';

const load1 = (text: string, name = 'in.yaml') => loadSources([{ name, text }]);

/** A Service whose selector is nine aliases of nine aliases ... of nine strings: 9^9 (387 million) strings as a tree. */
const LAUGHS = `apiVersion: v1
kind: Service
metadata:
  name: lol
spec:
  clusterIP: 10.96.0.10
  ports:
    - port: 80
  selector:
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`;

const PLAIN = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: plain\nspec:\n  ports:\n    - port: 80\n';

/** Counts the nodes the alias check visits while loading. */
function loadCounting(text: string): { result: ReturnType<typeof load1>; nodes: number } {
  const before = aliasWork.nodes;
  const result = load1(text, 'laughs.yaml');
  return { result, nodes: aliasWork.nodes - before };
}

describe('excessive aliasing', () => {
  it('refuses a billion-laughs document after a few thousand nodes, at the line of the alias that expands, saying what to do', () => {
    const { result, nodes } = loadCounting(LAUGHS);
    expect(result.objects).toEqual([]);
    expect(result.diagnostics).toHaveLength(1);
    const [d] = result.diagnostics;
    expect(d).toMatchObject({ severity: 'error', file: 'laughs.yaml', object: null });
    expect(d!.message).toMatch(/^excessive aliasing: .*; expand the aliases or simplify$/);
    expect(d!.line).toBeGreaterThanOrEqual(11);
    expect(d!.line).toBeLessThanOrEqual(18);
    // Both readers (kpc's block reader, then js-yaml over the whole text) stop early: work, not time.
    expect(nodes).toBeLessThan(20_000);
  });

  it('refuses it among block-YAML documents the fast reader reads, and keeps the others', () => {
    const { result, nodes } = loadCounting(`${PLAIN}---\n${LAUGHS}---\n${PLAIN.replace('plain', 'after')}`);
    expect(result.objects.map((o) => (o.value as { metadata: { name: string } }).metadata.name)).toEqual(['plain', 'after']);
    expect(result.diagnostics.map((d) => [d.line, d.message.slice(0, 19)])).toEqual([[expect.any(Number), 'excessive aliasing:']]);
    expect(result.diagnostics[0]!.line).toBeGreaterThan(8 + 10);
    expect(nodes).toBeLessThan(20_000);
  });

  it('allows aliases that expand within the bound Kubernetes allows', () => {
    const text = `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels: &labels { app: web, tier: front }\nspec:\n  selector: *labels\n  ports:\n    - &http { name: http, port: 80 }\n`;
    const { objects, diagnostics } = load1(text);
    expect(diagnostics).toEqual([]);
    expect((objects[0]!.value as { spec: { selector: unknown } }).spec.selector).toEqual({ app: 'web', tier: 'front' });
  });

  it('follows go-yaml: fine at 99% aliases below 400,000 values, refused past it', () => {
    // 1 real list of 100 strings, aliased n times: (n * 101) of (n * 101 + 101 + n + 1) values come through aliases.
    const doc = (n: number) => load(`a: &a [${Array(100).fill('x').join(',')}]\nb: [${Array(n).fill('*a').join(',')}]\n`);
    expect(excessiveAliasing(doc(50))).toBeNull();
    expect(excessiveAliasing(doc(5000))?.message).toMatch(/^excessive aliasing: \d+ of the first \d+ values come through aliases/);
  });

  it('names the line of the last alias expanded when the bound is passed just after it', () => {
    // 1,000 values after b, 994 through aliases: the key c is the 1,001st, and passes go-yaml's bound.
    const text = `a: &a [s]\nb: [${Array(497).fill('*a').join(', ')}]\nc: 1\n`;
    expect(load1(text).diagnostics.map((d) => `${d.line}: ${d.message}`)).toEqual(['2: excessive aliasing: 994 of the first 1001 values come through aliases, more than Kubernetes\' YAML reader allows; expand the aliases or simplify']);
  });

  it('refuses an alias to a node that contains it, which would never end', () => {
    const { objects, diagnostics } = load1('apiVersion: v1\nkind: Service\nmetadata:\n  name: c\nspec:\n  selector: &a {k: *a}\n');
    expect(objects).toEqual([]);
    expect(diagnostics.map((d) => `${d.line}: ${d.message}`)).toEqual(['6: excessive aliasing: an alias refers to a node that contains it, which has no end; expand the aliases or simplify']);
  });

  it('refuses aliases that nest the document deeper than any manifest', () => {
    const deep = (name: string, inner: string) => `${name}: &${name} ${'['.repeat(60)}${inner}${']'.repeat(60)}\n`;
    const text = deep('a', '1') + deep('b', '*a') + deep('c', '*b') + deep('d', '*c');
    expect(excessiveAliasing(load(text))?.message).toMatch(/nest the document more than 200 levels deep/);
  });
});
