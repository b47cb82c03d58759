import { load as loadYaml12 } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { readBlockYaml } from '../../src/load/block-yaml.js';
import { loadSources } from '../../src/load/documents.js';
import { locateField } from '../../src/load/locate.js';

/**
 * kubectl reads YAML through sigs.k8s.io/yaml, whose plain scalars follow
 * go-yaml v2's resolver (YAML 1.1 for booleans and octal, Go's integer syntax,
 * timestamps kept as text); kpc must read a file as the cluster will.
 */

/** A value as a test reads it: a float is a Number object that shows its text (kpc's FloatScalar). */
function shown(value: unknown): string {
  if (value instanceof Number) return `float ${(value as unknown as { text: string }).text} = ${value.valueOf()}`;
  if (value instanceof Date) return `date ${value.toISOString()}`;
  if (typeof value === 'number') return `int ${Object.is(value, -0) ? '-0' : value}`;
  if (typeof value === 'string') return `str ${JSON.stringify(value)}`;
  return `${value === null ? 'null' : typeof value} ${String(value)}`;
}

/** What kpc reads for `v: TEXT`, through its block reader and through js-yaml (a flow mapping goes there). */
function readBothWays(text: string): { block: string; flow: string; blockReaderAnswered: boolean } {
  const block = loadSources([{ name: 'block.yaml', text: `v: ${text}\n` }]);
  const flow = loadSources([{ name: 'flow.yaml', text: `{ v: ${text} }\n` }]);
  expect(block.diagnostics).toEqual([]);
  expect(flow.diagnostics).toEqual([]);
  return {
    block: shown((block.objects[0]!.value as { v: unknown }).v),
    flow: shown((flow.objects[0]!.value as { v: unknown }).v),
    blockReaderAnswered: readBlockYaml(`v: ${text}\n`)?.handedToJsYaml === 0,
  };
}

/**
 * The YAML 1.1 / 1.2 differences: the scalar, what a YAML 1.2 reader (js-yaml's
 * default schema, what kpc used to read) makes of it, and what kubectl does.
 * Sources: the YAML 1.1 type repository (yaml.org/type: bool, int, float,
 * timestamp, with its own examples such as 685230 written six ways), the
 * YAML 1.2 core schema, and go-yaml v2's resolve.go.
 */
const DIFFERENCES: [text: string, yaml12: string, kubectl: string][] = [
  // Booleans: YAML 1.1 has y/n, yes/no, on/off in three cases each.
  ['yes', 'str "yes"', 'boolean true'],
  ['Yes', 'str "Yes"', 'boolean true'],
  ['YES', 'str "YES"', 'boolean true'],
  ['y', 'str "y"', 'boolean true'],
  ['Y', 'str "Y"', 'boolean true'],
  ['on', 'str "on"', 'boolean true'],
  ['ON', 'str "ON"', 'boolean true'],
  ['no', 'str "no"', 'boolean false'],
  ['n', 'str "n"', 'boolean false'],
  ['N', 'str "N"', 'boolean false'],
  ['off', 'str "off"', 'boolean false'],
  ['Off', 'str "Off"', 'boolean false'],
  // Integers: a leading 0 is octal in YAML 1.1 and Go; 0x, 0o, 0b and underscores as Go reads them.
  ['0120', 'int 120', 'int 80'],
  ['-0120', 'int -120', 'int -80'],
  ['02472256', 'int 2472256', 'int 685230'],
  ['+685_230', 'str "+685_230"', 'int 685230'],
  ['0x_0A_74_AE', 'str "0x_0A_74_AE"', 'int 685230'],
  ['0b1010_0111_0100_1010_1110', 'str "0b1010_0111_0100_1010_1110"', 'int 685230'],
  ['0X1F', 'str "0X1F"', 'int 31'],
  ['-0x1F', 'int -31', 'int -31'],
  ['0O17', 'str "0O17"', 'int 15'],
  // Floats: go-yaml's pattern; kpc keeps them floats, so that an integer field can refuse them.
  ['80.0', 'int 80', 'float 80.0 = 80'],
  ['1e3', 'int 1000', 'float 1e3 = 1000'],
  ['08', 'int 8', 'float 08 = 8'],
  ['685.230_15e+03', 'str "685.230_15e+03"', 'float 685.230_15e+03 = 685230.15'],
  ['685_230.15', 'str "685_230.15"', 'float 685_230.15 = 685230.15'],
  ['.inf', 'int Infinity', 'float .inf = Infinity'],
  ['-.Inf', 'int -Infinity', 'float -.Inf = -Infinity'],
  ['+.inf', 'int Infinity', 'float +.inf = Infinity'],
  ['.NaN', 'int NaN', 'float .NaN = NaN'],
  ['1.', 'int 1', 'float 1. = 1'],
  // Timestamps: sigs.k8s.io/yaml writes them into JSON as the text they are.
  ['2024-01-01', 'date 2024-01-01T00:00:00.000Z', 'str "2024-01-01"'],
  ['2001-12-14t21:59:43.10-05:00', 'date 2001-12-15T02:59:43.100Z', 'str "2001-12-14t21:59:43.10-05:00"'],
  ['2001-12-14 21:59:43.10', 'date 2001-12-14T21:59:43.100Z', 'str "2001-12-14 21:59:43.10"'],
];

/** Scalars both read alike, to show the rule is no wider than kubectl's. */
const SAME: [text: string, value: string][] = [
  ['true', 'boolean true'],
  ['False', 'boolean false'],
  ['tRUE', 'str "tRUE"'],
  ['yES', 'str "yES"'],
  ['~', 'null null'],
  ['Null', 'null null'],
  ['80', 'int 80'],
  ['0', 'int 0'],
  ['0o17', 'int 15'],
  ['1.5', 'float 1.5 = 1.5'],
  // YAML 1.1 has base 60 (190:20:30 is 685230); go-yaml does not, and neither does YAML 1.2.
  ['190:20:30', 'str "190:20:30"'],
  ['10.0.0.1', 'str "10.0.0.1"'],
  ['10.0.0.0/8', 'str "10.0.0.0/8"'],
  ['=', 'str "="'],
  ['nan', 'str "nan"'],
  ['-0', 'int 0'],
  // Out of a double's range: go-yaml's ParseFloat fails and the scalar stays text.
  ['1e400', 'str "1e400"'],
];

describe('plain scalars, read as kubectl reads them', () => {
  it.each(DIFFERENCES)('%s: YAML 1.2 reads %s, kubectl (and kpc) %s', (text, yaml12, kubectl) => {
    // The table is true of YAML 1.2: a float that js-yaml reads is shown by its value.
    const jsYaml = (loadYaml12(`v: ${text}\n`) as { v: unknown }).v;
    expect(typeof jsYaml === 'number' && !Number.isInteger(jsYaml) && Number.isFinite(jsYaml) ? `float ${jsYaml}` : shown(jsYaml)).toBe(yaml12);
    const read = readBothWays(text);
    expect({ block: read.block, flow: read.flow }).toEqual({ block: kubectl, flow: kubectl });
  });

  it.each(SAME)('%s: read as %s by both', (text, value) => {
    const read = readBothWays(text);
    expect({ block: read.block, flow: read.flow }).toEqual({ block: value, flow: value });
  });

  it('reads the scalars of a kubectl-style manifest with its own reader, not js-yaml', () => {
    for (const [text] of [...DIFFERENCES, ...SAME]) expect(readBothWays(text).blockReaderAnswered, text).toBe(true);
  });

  it('keeps quoted scalars and literal blocks as strings', () => {
    const text = 'a: "yes"\nb: \'0120\'\nc: |\n  on\nd: "2024-01-01"\n';
    for (const source of [text, `{ a: "yes", b: '0120', c: "on\\n", d: "2024-01-01" }`]) {
      expect(loadSources([{ name: 'q.yaml', text: source }]).objects[0]!.value).toEqual({ a: 'yes', b: '0120', c: 'on\n', d: '2024-01-01' });
    }
  });

  it('writes mapping keys as sigs.k8s.io/yaml writes them into JSON: booleans and integers as their text', () => {
    const expected = { true: 'a', false: 'b', '80': 'c', '31': 'd', '2024-01-01': 'e', name: 'f' };
    for (const text of ['yes: a\nn: b\n0120: c\n0x1F: d\n2024-01-01: e\nname: f\n', '{ yes: a, n: b, 0120: c, 0x1F: d, 2024-01-01: e, name: f }\n']) {
      const { objects, diagnostics } = loadSources([{ name: 'k.yaml', text }]);
      expect(diagnostics).toEqual([]);
      expect(objects[0]!.value).toEqual(expected);
    }
  });

  it('writes a float mapping key as Go prints a 32-bit float, as sigs.k8s.io/yaml does', () => {
    const expected = { '1.5': 'a', '1000': 'b', '1e+06': 'c', '3.1415927': 'd', '.inf': 'e', '0.0001': 'f', '1e-05': 'g' };
    for (const text of ['1.50: a\n1e3: b\n1000000.0: c\n3.14159265358979: d\n.inf: e\n0.0001: f\n0.00001: g\n', '{ 1.50: a, 1e3: b, 1000000.0: c, 3.14159265358979: d, .inf: e, 0.0001: f, 0.00001: g }\n']) {
      const { objects, diagnostics } = loadSources([{ name: 'k.yaml', text }]);
      expect(diagnostics).toEqual([]);
      expect(objects[0]!.value).toEqual(expected);
    }
  });

  it('reads explicit tags as go-yaml does', () => {
    const text = '{ a: !!str 0120, b: !!int "0120", c: !!bool yes, d: !!float 1, e: !!null "" }\n';
    const value = loadSources([{ name: 't.yaml', text }]).objects[0]!.value as Record<string, unknown>;
    expect(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shown(v)]))).toEqual({ a: 'str "0120"', b: 'int 80', c: 'boolean true', d: 'float 1 = 1', e: 'null null' });
    expect(loadSources([{ name: 't.yaml', text: 'a: !!int 1.5\n' }]).diagnostics[0]!.message).toMatch(/^not valid YAML or JSON: .*int/);
  });
});

describe('JSON, read with the same rules', () => {
  it('refuses a key written twice in one object, with its file and line (JSON.parse keeps the last quietly)', () => {
    const text = '{\n  "apiVersion": "v1",\n  "kind": "Service",\n  "metadata": { "name": "dns" },\n  "spec": {\n    "clusterIP": "10.96.0.10",\n    "clusterIP": "10.96.0.99"\n  }\n}\n';
    const { objects, diagnostics } = loadSources([{ name: 'dns.json', text }]);
    expect(objects).toEqual([]);
    expect(diagnostics.map((d) => `${d.file}:${d.line}: ${d.message}`)).toEqual([
      'dns.json:7: writes the key "clusterIP" twice in one object (first at line 6); the API server refuses duplicate fields, remove one',
    ]);
  });

  it('tells a key written twice from the same key in two objects, and from escaped quotes inside strings', () => {
    const text = '[{"a": 1, "b": {"a": 2}}, {"a": "x\\"a\\": 3", "c\\\\": 4}]';
    expect(loadSources([{ name: 'ok.json', text }])).toMatchObject({ diagnostics: [], objects: [{ value: { a: 1, b: { a: 2 } } }, { value: { a: 'x"a": 3', 'c\\': 4 } }] });
    expect(loadSources([{ name: 'bad.json', text: '[{"a": 1, "b": {"a": 2}}, {"a": 1, "c\\\\": 4, "c\\\\": 5}]' }]).diagnostics).toHaveLength(1);
  });

  it('reads numbers written with a fraction or an exponent as floats, as YAML', () => {
    const text = '{"a": 80.0, "b": 1e3, "c": 1e400, "d": 80, "e": -0.5, "f": "80.0"}';
    const value = loadSources([{ name: 'n.json', text }]).objects[0]!.value as Record<string, unknown>;
    expect(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shown(v)]))).toEqual({
      a: 'float 80.0 = 80',
      b: 'float 1e3 = 1000',
      c: 'float 1e400 = Infinity',
      d: 'int 80',
      e: 'float -0.5 = -0.5',
      f: 'str "80.0"',
    });
  });
});

describe('positions', () => {
  it('places an empty document with a tag (`--- !!map`) on its own line', () => {
    const text = 'a: 1\n---\n\n--- !!map\n---\nx: 2\n';
    const { objects } = loadSources([{ name: 'e.yaml', text }]);
    expect(objects.map((o) => locateField(o.origin, ['kind']))).toEqual([1, 4, 6]);
  });
});
