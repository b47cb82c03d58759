import { describe, expect, it } from 'vitest';
import { FloatScalar } from '../../src/load/kubectl-scalars.js';
import { lineOfProblem, parseJson } from '../../src/load/json.js';
import { random } from '../helpers/random.js';

const STRINGS = ['', 'a', 'name', 'x"y', 'back\\slash', 'ends\\', '"', '\\"', ':', '": 1', 'ünï', '日本', 'tab\there', 'line\nbreak', '\u2028', '{', '[1.5]', '80.0', 'e'];

function randomValue(next: () => number, depth: number): unknown {
  const r = next();
  if (depth > 3 || r < 0.4) {
    const s = next();
    if (s < 0.4) return STRINGS[Math.floor(next() * STRINGS.length)];
    if (s < 0.6) return Math.floor(next() * 70000) - 100;
    if (s < 0.7) return next() < 0.5;
    if (s < 0.8) return null;
    if (s < 0.85) return 2.5;
    return `v${Math.floor(next() * 100)}`;
  }
  if (r < 0.75) {
    const object: Record<string, unknown> = {};
    const size = Math.floor(next() * 5);
    for (let i = 0; i < size; i++) object[next() < 0.5 ? `k${Math.floor(next() * 6)}` : STRINGS[Math.floor(next() * STRINGS.length)]!] = randomValue(next, depth + 1);
    return object;
  }
  return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
}

/** JSON of a value, with the first key of the `dupAt`-th object written twice (the first time with the value "first"). */
function writeJson(value: unknown, indent: string, dupAt: number): { text: string; duplicated: boolean } {
  let objects = 0;
  let duplicated = false;
  const write = (v: unknown, pad: string): string => {
    if (Array.isArray(v)) return v.length === 0 ? '[]' : `[\n${v.map((item) => pad + indent + write(item, pad + indent)).join(',\n')}\n${pad}]`;
    if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v);
      if (entries.length === 0) return '{}';
      const lines = entries.map(([k, item]) => `${pad + indent}${JSON.stringify(k)}: ${write(item, pad + indent)}`);
      if (objects++ === dupAt) {
        lines.unshift(`${pad + indent}${JSON.stringify(entries[0]![0])}: "first"`);
        duplicated = true;
      }
      return `{\n${lines.join(',\n')}\n${pad}}`;
    }
    return JSON.stringify(v);
  };
  return { text: write(value, ''), duplicated };
}

/** FloatScalars as the numbers JSON.parse gives. */
function plain(value: unknown): unknown {
  if (value instanceof FloatScalar) return value.valueOf();
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

describe('parseJson', () => {
  it('gives what JSON.parse gives for random JSON, through the scan or the exact reader', () => {
    const next = random(7);
    for (let i = 0; i < 3000; i++) {
      const value = { items: [randomValue(next, 0)] };
      let text = next() < 0.5 ? JSON.stringify(value, null, next() < 0.5 ? 2 : 4) : JSON.stringify(value);
      // A float somewhere sends the text to the exact reader.
      if (next() < 0.3) text = text.replace(/^\{/, '{"float": 1.5, ');
      const read = parseJson(text);
      expect(read && 'value' in read ? plain(read.value) : read).toEqual(JSON.parse(text));
    }
  });

  it('finds every key written twice, at the line of its second writing', () => {
    const next = random(8);
    let found = 0;
    for (let i = 0; i < 2000; i++) {
      const { text, duplicated } = writeJson({ items: [randomValue(next, 0)] }, next() < 0.5 ? '  ' : '    ', Math.floor(next() * 4));
      const read = parseJson(text);
      if (!duplicated) {
        expect(read && 'value' in read).toBe(true);
        continue;
      }
      found++;
      expect(read && 'problem' in read, text).toBe(true);
      if (read && 'problem' in read) {
        const line = lineOfProblem(text, read.problem);
        expect(text.split('\n')[line - 1]).not.toContain('"first"');
        expect(read.problem.message).toMatch(/^writes the key "[^]*" twice in one object \(first at line \d+\); the API server refuses duplicate fields, remove one$/);
      }
    }
    expect(found).toBeGreaterThan(500);
  });

  it('finds a float in a list, where the scan does not look', () => {
    const read = parseJson('{"a": [80, [80.0], {"b": [1e3]}]}');
    expect(read && 'value' in read && JSON.stringify(read.value, (_, v: unknown) => (v instanceof FloatScalar ? `float ${v.text}` : v))).toBe('{"a":[80,["float 80.0"],{"b":["float 1e3"]}]}');
  });

  it('leaves text JSON.parse refuses to the YAML reader', () => {
    expect(parseJson('{ kind: Service }')).toBeNull();
    expect(parseJson('{"a": 1,}')).toBeNull();
  });

  it('reads JSON nested far deeper than the exact reader follows, when nothing sends it there', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(parseJson(deep)).not.toBeNull();
    expect(parseJson(`[1.5, ${deep}]`)).toEqual({ problem: { offset: '[1.5, '.length + 999, message: 'nests objects and lists more than 1000 deep' } });
  });
});
