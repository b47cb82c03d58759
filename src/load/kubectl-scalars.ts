/**
 * Plain YAML scalars read as kubectl reads them.
 *
 * kubectl, Helm and the API server turn YAML into JSON with sigs.k8s.io/yaml,
 * which resolves plain (unquoted) scalars with go-yaml v2's resolver
 * (go.yaml.in/yaml/v2 resolve.go): YAML 1.1 booleans (y, yes, on, off...),
 * integers in Go's syntax (0120 is octal 80, 0x1F, 0o17, 0b101, underscores
 * dropped), floats by its own pattern, and timestamps kept as the text they
 * are written as. kpc reads every plain scalar with the same rules, so that a
 * file means to kpc what it means to the cluster. The block reader and the
 * js-yaml fallback both resolve through this file.
 *
 * One deliberate difference: what go-yaml reads as a float is a FloatScalar,
 * not a number, so that integer fields can refuse `80.0` or `1e3` (kubectl
 * happens to send 80 because Go prints the float 80.0 as 80; clients that keep
 * the fraction are refused by the API server) and say what was written.
 */

/** A scalar go-yaml reads as a float: its value, and the text as written for messages. */
export class FloatScalar extends Number {
  constructor(
    value: number,
    /** The scalar as written (`80.0`, `1e3`, `.inf`). */
    readonly text: string,
  ) {
    super(value);
  }

  /**
   * As sigs.k8s.io/yaml writes a float mapping key into JSON (js-yaml makes
   * keys with String()): Go's strconv.FormatFloat(value, 'g', -1, 32).
   * Messages quote `text`, what the user wrote.
   */
  override toString(): string {
    return goFloat32(this.valueOf());
  }
}

/**
 * Go's FormatFloat(value, 'g', -1, 32): the shortest decimal that reads back
 * as the same 32-bit float, with an exponent (at least two digits) when it is
 * below -4 or from 6 up; and sigs.k8s.io/yaml's names for the non-finite.
 */
export function goFloat32(value: number): string {
  const single = Math.fround(value);
  if (Number.isNaN(single)) return '.nan';
  if (!Number.isFinite(single)) return single > 0 ? '.inf' : '-.inf';
  if (single === 0) return Object.is(single, -0) ? '-0' : '0';
  let scientific = single.toExponential(8);
  for (let precision = 0; precision < 8; precision++) {
    const shorter = single.toExponential(precision);
    if (Math.fround(Number(shorter)) === single) {
      scientific = shorter;
      break;
    }
  }
  const [mantissa, exponentText] = scientific.split('e') as [string, string];
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace(/[-.]/g, '');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const magnitude = String(Math.abs(exponent)).padStart(2, '0');
    return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${exponent < 0 ? '-' : '+'}${magnitude}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** The values go-yaml looks up by exact text, for scalars that start with one of `yYnNtTfFoO~.+-`. */
const BY_TEXT = new Map<string, unknown>();
for (const [value, words] of [
  [true, ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']],
  [false, ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']],
  [null, ['', '~', 'null', 'Null', 'NULL']],
] as const) {
  for (const word of words) BY_TEXT.set(word, value);
}
for (const [value, words] of [
  [NaN, ['.nan', '.NaN', '.NAN']],
  [Infinity, ['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF']],
  [-Infinity, ['-.inf', '-.Inf', '-.INF']],
] as const) {
  for (const word of words) BY_TEXT.set(word, new FloatScalar(value, word));
}

const PLUS = 43;
const MINUS = 45;
const DOT = 46;

/** go-yaml's hint: the first characters for which it looks a scalar up by its text. */
function isWordStart(c: number): boolean {
  // y Y n N t T f F o O ~
  return c === 121 || c === 89 || c === 110 || c === 78 || c === 116 || c === 84 || c === 102 || c === 70 || c === 111 || c === 79 || c === 126;
}

/** go-yaml's float pattern (yamlStyleFloat), applied after underscores are dropped. */
const GO_YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** What strconv.ParseFloat accepts of a text starting with `.`: digits, underscores only between digits. */
const GO_DOT_FLOAT = /^\.[0-9]+(_[0-9]+)*([eE][-+]?[0-9]+(_[0-9]+)*)?$/;

/** Go's integer syntax for strconv.ParseInt(s, 0, 64), underscores already dropped. */
const GO_INTEGER = /^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** The value of a plain scalar, as go-yaml v2 resolves it into an interface{} and sigs.k8s.io/yaml writes it as JSON. */
export function resolvePlainScalar(raw: string): unknown {
  const c = raw.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === PLUS || c === MINUS) {
    const known = c === PLUS || c === MINUS ? BY_TEXT.get(raw) : undefined;
    return known !== undefined ? known : resolveNumeric(raw);
  }
  if (raw.length === 0) return null;
  if (c === DOT) {
    const known = BY_TEXT.get(raw);
    if (known !== undefined) return known;
    return GO_DOT_FLOAT.test(raw) ? float(Number(raw.replaceAll('_', '')), raw) : raw;
  }
  if (isWordStart(c)) {
    const known = BY_TEXT.get(raw);
    return known !== undefined ? known : raw;
  }
  return raw;
}

/**
 * A scalar that starts with a digit or a sign: a timestamp (kept as its text,
 * which is also what anything with a `-` after four digits is), an integer in
 * Go's syntax (int64, or uint64), a float by go-yaml's pattern, else the text.
 */
function resolveNumeric(raw: string): unknown {
  const plain = raw.includes('_') ? raw.replaceAll('_', '') : raw;
  // The common case: decimal digits without a leading zero (which makes octal) that fit a double exactly.
  if (plain.length <= 15 && (plain.charCodeAt(0) !== 48 || plain.length === 1) && isDecimal(plain)) return Number(plain);
  if (GO_INTEGER.test(plain)) {
    const value = goInteger(plain);
    if (value !== undefined) return value;
  }
  if (GO_YAML_FLOAT.test(plain)) return float(Number(plain), raw);
  return raw;
}

function isDecimal(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return text.length > 0;
}

/** An integer in Go's syntax: its value, or undefined when it fits neither int64 nor uint64 (go-yaml then tries a float). */
function goInteger(plain: string): number | undefined {
  const negative = plain.charCodeAt(0) === MINUS;
  const unsigned = plain.charCodeAt(0) === PLUS || negative ? plain.slice(1) : plain;
  const prefix = unsigned.charCodeAt(1) | 32;
  let magnitude: bigint;
  if (unsigned.length > 1 && unsigned.charCodeAt(0) === 48 && (prefix === 120 || prefix === 111 || prefix === 98)) magnitude = BigInt(`0${String.fromCharCode(prefix)}${unsigned.slice(2)}`);
  else if (unsigned.length > 1 && unsigned.charCodeAt(0) === 48) magnitude = BigInt(`0o${unsigned.slice(1)}`);
  else magnitude = BigInt(unsigned);
  const value = negative ? -magnitude : magnitude;
  // ParseInt for int64, then ParseUint (which takes no sign) for the rest of uint64.
  if (value < INT64_MIN || value > UINT64_MAX || (value > 2n ** 63n - 1n && plain.charCodeAt(0) === PLUS)) return undefined;
  return Number(value);
}

/** A float, or the text when strconv.ParseFloat would report it out of range (go-yaml then keeps the string). */
function float(value: number, raw: string): unknown {
  return Number.isFinite(value) ? new FloatScalar(value, raw) : raw;
}

/**
 * A plain mapping key as sigs.k8s.io/yaml writes it into JSON: booleans and
 * integers as their decimal text. The rarer keys give undefined, and the
 * block reader leaves them to js-yaml: a float (which js-yaml turns into a
 * key with FloatScalar.toString, Go's format), an integer beyond 2^53, and
 * null (which kubectl cannot convert; js-yaml makes it "null").
 */
export function resolvePlainKey(raw: string): string | undefined {
  const value = resolvePlainScalar(raw);
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}
