import { load } from 'js-yaml';
import { excessiveAliasing } from './aliasing.js';
import { resolvePlainKey, resolvePlainScalar } from './kubectl-scalars.js';
import { KUBECTL_SCHEMA } from './kubectl-schema.js';

/**
 * A fast reader for the block-style YAML that `kubectl get -o yaml` and most
 * hand-written manifests use: block mappings and sequences, plain and quoted
 * one-line scalars, `{}`, `[]`, literal `|` / `|-` scalars and comments.
 *
 * js-yaml stays the reference. This reader only answers for text it fully
 * understands and gives every value exactly as js-yaml's `loadAll` would
 * with KUBECTL_SCHEMA (plain scalars are resolved as kubectl resolves them,
 * kubectl-scalars.ts, in both); any document
 * with something else (anchors, tags, flow collections, folded or multi-line
 * scalars, escapes, odd indentation, duplicate keys) is handed to js-yaml
 * whole. A differential test (test/load/block-yaml.test.ts) holds the two
 * together. It exists because js-yaml's general parser was over half of
 * kpc's time on a 10,000-service cluster.
 *
 * Returns the documents as loadAll would, or null when the text as a whole
 * must go to js-yaml (a directive, a document end marker, CR line ends,
 * characters js-yaml rejects, or a document js-yaml itself cannot read, so
 * that its error names the right line).
 */
export function loadBlockYaml(text: string): unknown[] | null {
  return readBlockYaml(text)?.documents ?? null;
}

/** loadBlockYaml, and how many documents it handed to js-yaml (which tests check is none where it should be). */
export function readBlockYaml(text: string): { documents: unknown[]; handedToJsYaml: number } | null {
  if (text.length === 0) return { documents: [], handedToJsYaml: 0 };
  if (UNSUPPORTED_CHARACTERS.test(text) || hasLineStarting(text, '%') || hasDocumentEnd(text)) return null;
  const state = new TextState(text);
  const documents: unknown[] = [];
  for (let from = 0; from < text.length; ) {
    const to = nextDocumentStart(text, from);
    const value = readDocument(text, from, to, state);
    if (value === FAILED) return null;
    if (value !== NOT_A_DOCUMENT) documents.push(value);
    from = to;
  }
  return { documents, handedToJsYaml: state.handedToJsYaml };
}

/** What the documents of one text share while it is read. */
class TextState {
  readonly tabs: TabFinder;
  readonly keys = new StringCache();
  readonly values = new StringCache();
  handedToJsYaml = 0;

  constructor(text: string) {
    this.tabs = new TabFinder(text);
  }
}

/**
 * Characters that make the whole text js-yaml's: controls it rejects, CR,
 * Unicode line breaks, and all surrogates (a superset of its check for lone
 * ones, so that its rules for pairs apply).
 */
const UNSUPPORTED_CHARACTERS = /[\x00-\x08\x0B-\x1F\x7F-\x9F\uD800-\uDFFF\uFFFE\uFFFF\u2028\u2029]/;

function hasLineStarting(text: string, prefix: string): boolean {
  return text.startsWith(prefix) || text.includes(`\n${prefix}`);
}

/** A `...` line: documents after it may have directives, which this reader leaves to js-yaml. */
function hasDocumentEnd(text: string): boolean {
  if (isMarker(text, 0, '...')) return true;
  for (let at = text.indexOf('\n...'); at !== -1; at = text.indexOf('\n...', at + 1)) if (isMarker(text, at + 1, '...')) return true;
  return false;
}

/** Where the document after the one starting at `from` starts: its `---` line, or the end of the text. */
function nextDocumentStart(text: string, from: number): number {
  for (let at = text.indexOf('\n---', from); at !== -1; at = text.indexOf('\n---', at + 1)) if (isMarker(text, at + 1, '---')) return at + 1;
  return text.length;
}

/** `---` or `...` at `at`, followed by a space, a newline or the end. */
function isMarker(text: string, at: number, marker: string): boolean {
  if (!text.startsWith(marker, at)) return false;
  const next = text.charCodeAt(at + 3);
  return next !== next || next === NL || next === SPACE;
}

/** Whether a range of the text holds a tab, in one pass over the text for all documents in order. */
class TabFinder {
  private next: number;
  constructor(private readonly text: string) {
    this.next = text.indexOf('\t');
  }
  within(from: number, to: number): boolean {
    while (this.next !== -1 && this.next < from) this.next = this.text.indexOf('\t', from);
    return this.next !== -1 && this.next < to;
  }
}

/** Character codes by index, the scanner's view of the text. */
type Codes = Uint8Array | Uint16Array;

/**
 * A document's character codes as a typed array: reading an element is about
 * half the cost of charCodeAt, which checks the string's representation on
 * every call, and the reader looks at every character two or three times.
 * Most manifests are ASCII, whose codes are its Latin-1 bytes. Made per
 * document, so that a large input is not held twice.
 */
function charCodes(text: string): Codes {
  if (Buffer.byteLength(text, 'utf8') === text.length) return Buffer.from(text, 'latin1');
  const codes = new Uint16Array(text.length);
  for (let i = 0; i < text.length; i++) codes[i] = text.charCodeAt(i);
  return codes;
}

/** Below js-yaml's own limit (100), so that js-yaml, not this reader, judges anything near it. */
const MAX_DEPTH = 90;

const FAILED = Symbol('js-yaml cannot read this document');
const NOT_A_DOCUMENT = Symbol('only comments before the first ---');

/** Thrown inside a document that this reader leaves to js-yaml. */
const UNSUPPORTED = Symbol('unsupported');

/**
 * One document: text [from, to), starting with its `---` line if it has one.
 * Unsupported documents are read by js-yaml alone; FAILED when js-yaml
 * rejects them too.
 */
function readDocument(text: string, from: number, to: number, state: TextState): unknown {
  const marked = isMarker(text, from, '---');
  try {
    if (state.tabs.within(from, to)) throw UNSUPPORTED;
    const reader = new Reader(text.slice(from, to), to < text.length, state.keys, state.values);
    if (marked) reader.skipMarker();
    return reader.readDocument(marked);
  } catch (error) {
    if (error !== UNSUPPORTED) throw error;
  }
  state.handedToJsYaml++;
  try {
    const value = load(text.slice(from, to), { schema: KUBECTL_SCHEMA });
    // js-yaml's aliases are shared values that later steps walk as trees: past Kubernetes' bound, loadAll over the whole text reports it.
    if (excessiveAliasing(value) !== null) return FAILED;
    // Without a `---`, an empty first document and a null one look alike here: js-yaml must read the whole text.
    if (!marked && (value === null || value === undefined)) return FAILED;
    return value ?? null;
  } catch {
    return FAILED;
  }
}

const NL = 10;
const SPACE = 32;
const HASH = 35;
const COLON = 58;
const DASH = 45;
const DQUOTE = 34;
const SQUOTE = 39;
const BACKSLASH = 92;
const DOT = 46;
const SLASH = 47;

/**
 * indexOf within [from, to): searches stop at the end of the line, or a long
 * text without the character would be read to its end once per line.
 */
function indexIn(codes: Codes, code: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (codes[i] === code) return i;
  return -1;
}

/** A plain scalar's value, as kubectl reads it (kubectl-scalars.ts), with shortcuts for what manifests hold most. */
function resolvePlain(raw: string): unknown {
  const c = raw.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    const shape = digitsShape(raw);
    // Decimal digits without a leading zero (octal to kubectl) are an int.
    if (shape === DIGITS && (c !== 48 || raw.length === 1)) return Number(raw);
    // Digits with two or more dots (an IPv4 address), a slash, or a letter no number has (a uid), match no int or float.
    if (shape === DOTTED || shape === SLASHED || shape === WORDY) return raw;
  }
  return resolvePlainScalar(raw);
}

const DIGITS = 0;
const DOTTED = 1;
const OTHER = 2;
const SLASHED = 3;
const WORDY = 4;

/**
 * What a scalar that starts with a digit can be: decimal digits; digits and
 * two or more dots (an IPv4 address); a slash somewhere (a CIDR), which no
 * int or float holds; a letter other than that of exponents (e, and t and z,
 * which only timestamps hold, kept as text anyway) outside a 0x, 0o or 0b
 * prefix, which none holds either (a uid); or anything else, for the resolver.
 */
function digitsShape(raw: string): number {
  const prefix = raw.charCodeAt(1) | 32;
  if (raw.charCodeAt(0) === 48 && (prefix === 120 || prefix === 111 || prefix === 98)) return OTHER;
  let dots = 0;
  let other = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === DOT) dots++;
    else if (c === SLASH) return SLASHED;
    else if (c < 48 || c > 57) {
      const lower = c | 32;
      if (lower >= 97 && lower <= 122 && lower !== 101 && lower !== 116 && lower !== 122) return WORDY;
      other = true;
    }
  }
  if (other) return OTHER;
  if (dots === 0) return raw.length <= 15 ? DIGITS : OTHER;
  return dots >= 2 ? DOTTED : OTHER;
}

/** Characters a plain scalar or plain key must not start with (YAML c-indicator), `-` `?` `:` handled apart. */
function isIndicator(c: number): boolean {
  return c === 44 || c === 91 || c === 93 || c === 123 || c === 125 || c === HASH || c === 38 || c === 42 || c === 33 || c === 124 || c === 62 || c === SQUOTE || c === DQUOTE || c === 37 || c === 64 || c === 96 || c === 63 || c === COLON;
}

/**
 * Recently seen plain strings, so that what a manifest repeats is one string
 * each instead of a copy per use. Keys (name, namespace, port...): property
 * stores with a string V8 has seen before. String values (TCP, zone and node
 * names, namespaces): a quarter less young-generation collection while
 * reading a 10k-service cluster, where every object read survives.
 */
class StringCache {
  private readonly slots: (string | undefined)[] = new Array(1024);

  find(codes: Codes, from: number, to: number): string | null {
    const key = this.slots[slot(codes[from]!, codes[to - 1]!, to - from)];
    return key !== undefined && key.length === to - from && holdsAt(codes, from, key) ? key : null;
  }

  remember(key: string): void {
    this.slots[slot(key.charCodeAt(0), key.charCodeAt(key.length - 1), key.length)] = key;
  }
}

/** Whether the text at `at` starts with `part` (a loop V8 compiles inline: a quarter less time than startsWith's call, per key). */
function holdsAt(codes: Codes, at: number, part: string): boolean {
  for (let i = 0; i < part.length; i++) if (codes[at + i] !== part.charCodeAt(i)) return false;
  return true;
}

function slot(first: number, last: number, length: number): number {
  return (first * 31 + last * 7 + length) & 1023;
}

class Reader {
  /** The line being read: where it starts, ends (its newline) and where its content starts (moved right inside `- ` items). */
  private lineStart: number;
  private end = 0;
  private contentStart = 0;
  /** Collections open around the one being read. */
  private depth = 0;
  /** The document's character codes (charCodes), which all scanning reads. */
  private readonly codes: Codes;

  constructor(
    /** One document, starting with its `---` line if it has one. */
    private readonly text: string,
    /** Whether more text follows the document. */
    private readonly followed: boolean,
    private readonly keys: StringCache,
    private readonly values: StringCache,
  ) {
    this.codes = charCodes(text);
    this.lineStart = 0;
    this.setLine(0);
  }

  skipMarker(): void {
    // `---` alone (or followed by spaces) opens the document; content after it is js-yaml's.
    this.expectOnlySpaces(this.lineStart + 3, this.end);
    this.nextLine();
  }

  readDocument(marked: boolean): unknown {
    this.skipBlank();
    if (this.atEnd()) return marked ? null : this.emptyFirstDocument();
    const value = this.readNode(this.column());
    this.skipBlank();
    if (!this.atEnd()) throw UNSUPPORTED;
    return value;
  }

  /** Comments and blank lines before a `---` are no document; whether a text of nothing else is one depends on js-yaml's details. */
  private emptyFirstDocument(): unknown {
    return this.followed ? NOT_A_DOCUMENT : FAILED;
  }

  // -- lines -------------------------------------------------------------

  private setLine(start: number): void {
    this.lineStart = start;
    if (start >= this.text.length) return;
    const newline = this.text.indexOf('\n', start);
    this.end = newline === -1 ? this.text.length : newline;
    let i = start;
    while (this.codes[i] === SPACE) i++;
    this.contentStart = i;
  }

  private nextLine(): void {
    this.setLine(this.end + 1);
  }

  private atEnd(): boolean {
    return this.lineStart >= this.text.length;
  }

  private lineEnd(): number {
    return this.end;
  }

  private column(): number {
    return this.contentStart - this.lineStart;
  }

  /** Skips empty lines, lines of spaces and comment lines. */
  private skipBlank(): void {
    while (!this.atEnd()) {
      if (this.contentStart < this.end && this.codes[this.contentStart] !== HASH) return;
      this.nextLine();
    }
  }

  private isSequenceEntry(at: number): boolean {
    if (this.codes[at] !== DASH) return false;
    return at + 1 >= this.lineEnd() || this.codes[at + 1] === SPACE;
  }

  // -- nodes -------------------------------------------------------------

  /** A block sequence or mapping whose entries start at `column` on the current line. */
  private readNode(column: number): unknown {
    // js-yaml refuses nesting deeper than 100 (and a deep enough text would exhaust the stack here): its error, on its line.
    if (++this.depth > MAX_DEPTH) throw UNSUPPORTED;
    const node = this.isSequenceEntry(this.contentStart) ? this.readSequence(column) : this.readMapping(column);
    this.depth--;
    return node;
  }

  private readMapping(column: number): Record<string, unknown> {
    const mapping: Record<string, unknown> = {};
    for (;;) {
      this.skipBlank();
      if (this.atEnd()) return mapping;
      const at = this.column();
      if (at < column) return mapping;
      if (at > column || this.isSequenceEntry(this.contentStart)) throw UNSUPPORTED;
      const key = this.keyAt(this.contentStart);
      if (key === null || Object.prototype.hasOwnProperty.call(mapping, key) || key === '__proto__' || key === '<<') throw UNSUPPORTED;
      mapping[key] = this.readValue(this.valueStart, column, true);
    }
  }

  private readSequence(column: number): unknown[] {
    const sequence: unknown[] = [];
    for (;;) {
      this.skipBlank();
      if (this.atEnd()) return sequence;
      const at = this.column();
      if (at < column) return sequence;
      if (at > column) throw UNSUPPORTED;
      if (!this.isSequenceEntry(this.contentStart)) return sequence;
      sequence.push(this.readEntry(column));
    }
  }

  /** One `- ` entry: a nested block on later lines, a compact mapping or sequence, or a scalar. */
  private readEntry(column: number): unknown {
    const lineEnd = this.lineEnd();
    let at = this.contentStart + 1;
    while (at < lineEnd && this.codes[at] === SPACE) at++;
    if (at >= lineEnd || this.codes[at] === HASH) {
      this.nextLine();
      const nested = this.readNested(column, false);
      // js-yaml reads a `- ` less indented than an empty entry's own sequence as part of that sequence.
      if (nested === null && !this.atEnd() && this.column() < column) throw UNSUPPORTED;
      return nested;
    }
    if (this.isSequenceEntry(at) || this.keyAt(at) !== null) {
      this.contentStart = at;
      return this.readNode(this.column());
    }
    return this.readValue(at, column, false);
  }

  /**
   * The value after `key:` or `- `, from `at` on the current line. Afterwards
   * the reader stands on the next line. `column` is the entry's own column.
   */
  private readValue(at: number, column: number, inMapping: boolean): unknown {
    const lineEnd = this.lineEnd();
    while (at < lineEnd && this.codes[at] === SPACE) at++;
    if (at >= lineEnd || this.codes[at] === HASH) {
      this.nextLine();
      return this.readNested(column, inMapping);
    }
    const c = this.codes[at];
    if (c === 124) return this.readLiteral(at, column);
    const value = this.readInlineScalar(at, lineEnd);
    this.nextLine();
    // A more indented line after a scalar continues it (or is an error): js-yaml's to judge.
    this.skipBlank();
    if (!this.atEnd() && this.column() > column) throw UNSUPPORTED;
    return value;
  }

  /** A value on the lines below its key or dash: more indented, or a sequence at the key's own column. */
  private readNested(column: number, inMapping: boolean): unknown {
    this.skipBlank();
    if (this.atEnd()) return null;
    const at = this.column();
    if (at > column) return this.readNode(at);
    if (at === column && inMapping && this.isSequenceEntry(this.contentStart)) return this.readSequence(column);
    return null;
  }

  /** Where the value after the last key found by keyAt starts. */
  private valueStart = 0;

  /** The mapping key at `at` (its value starts at `valueStart`), or null when the line holds no `key:` there. */
  private keyAt(at: number): string | null {
    const { text, codes } = this;
    const lineEnd = this.lineEnd();
    const c = codes[at];
    if (c === DQUOTE || c === SQUOTE) {
      const quoted = this.readQuoted(at, lineEnd);
      let after = this.quotedEnd;
      while (after < lineEnd && codes[after] === SPACE) after++;
      if (codes[after] !== COLON) return null;
      if (after + 1 < lineEnd && codes[after + 1] !== SPACE) return null;
      this.valueStart = after + 1;
      return quoted;
    }
    let colon = indexIn(codes, COLON, at, lineEnd);
    while (colon !== -1 && colon + 1 < lineEnd && codes[colon + 1] !== SPACE) colon = indexIn(codes, COLON, colon + 1, lineEnd);
    if (colon === -1) return null;
    let keyEnd = colon;
    while (keyEnd > at && codes[keyEnd - 1] === SPACE) keyEnd--;
    if (keyEnd === at || keyEnd - at > 1000 || isIndicator(c) || c === DASH) throw UNSUPPORTED;
    this.valueStart = colon + 1;
    const cached = this.keys.find(codes, at, keyEnd);
    if (cached !== null) return cached;
    const raw = text.slice(at, keyEnd);
    if (raw.includes(' #')) throw UNSUPPORTED;
    // A float, null or huge integer key is js-yaml's (kubectl-scalars.ts, resolvePlainKey).
    const name = resolvePlainKey(raw);
    if (name === undefined) throw UNSUPPORTED;
    if (name === raw) this.keys.remember(raw);
    return name;
  }

  /** A scalar that ends on this line: plain, quoted, `{}` or `[]`. */
  private readInlineScalar(at: number, lineEnd: number): unknown {
    const { text, codes } = this;
    const c = codes[at];
    if (c === DQUOTE || c === SQUOTE) {
      const quoted = this.readQuoted(at, lineEnd);
      this.expectOnlySpaces(this.quotedEnd, lineEnd);
      return quoted;
    }
    if (c === 123 || c === 91) {
      if (codes[at + 1] !== (c === 123 ? 125 : 93)) throw UNSUPPORTED;
      this.expectOnlySpaces(at + 2, lineEnd);
      return c === 123 ? {} : [];
    }
    if (isIndicator(c) || (c === DASH && (at + 1 >= lineEnd || codes[at + 1] === SPACE))) throw UNSUPPORTED;
    let end = lineEnd;
    while (codes[end - 1] === SPACE) end--;
    const cached = this.values.find(codes, at, end);
    if (cached !== null) return cached;
    const raw = text.slice(at, end);
    if (raw.includes(': ') || raw.includes(' #') || raw.charCodeAt(raw.length - 1) === COLON) throw UNSUPPORTED;
    const value = resolvePlain(raw);
    if (value === raw) this.values.remember(raw);
    return value;
  }

  /** Where the last quoted scalar read ended (after its closing quote). */
  private quotedEnd = 0;

  /** A one-line quoted scalar without escapes; `''` stands for `'` in single quotes. */
  private readQuoted(at: number, lineEnd: number): string {
    const { text, codes } = this;
    if (codes[at] === DQUOTE) {
      const close = indexIn(codes, DQUOTE, at + 1, lineEnd);
      if (close === -1) throw UNSUPPORTED;
      for (let i = at + 1; i < close; i++) if (codes[i] === BACKSLASH) throw UNSUPPORTED;
      this.quotedEnd = close + 1;
      return text.slice(at + 1, close);
    }
    let value = '';
    let from = at + 1;
    for (;;) {
      const close = indexIn(codes, SQUOTE, from, lineEnd);
      if (close === -1) throw UNSUPPORTED;
      value += text.slice(from, close);
      if (codes[close + 1] !== SQUOTE) {
        this.quotedEnd = close + 1;
        return value;
      }
      value += "'";
      from = close + 2;
    }
  }

  private expectOnlySpaces(from: number, lineEnd: number): void {
    for (let i = from; i < lineEnd; i++) if (this.codes[i] !== SPACE) throw UNSUPPORTED;
  }

  /**
   * A literal block scalar, `|` (keep one final newline) or `|-` (none). Its
   * indentation comes from its first line, which must not be empty; lines of
   * spaces inside are left to js-yaml.
   */
  private readLiteral(at: number, column: number): string {
    const { text, codes } = this;
    const lineEnd = this.lineEnd();
    const strip = codes[at + 1] === DASH;
    this.expectOnlySpaces(at + (strip ? 2 : 1), lineEnd);
    this.nextLine();
    if (this.atEnd()) throw UNSUPPORTED;
    const indent = this.column();
    if (indent <= column || this.contentStart >= this.lineEnd()) throw UNSUPPORTED;
    const parts: string[] = [];
    let pendingEmpty = 0;
    while (!this.atEnd()) {
      const start = this.lineStart;
      const end = this.lineEnd();
      if (start === end) {
        pendingEmpty++;
        this.nextLine();
        continue;
      }
      // A line of spaces: content or not depends on rules js-yaml applies.
      if (this.contentStart >= end) throw UNSUPPORTED;
      if (this.column() < indent) break;
      for (; pendingEmpty > 0; pendingEmpty--) parts.push('');
      parts.push(text.slice(start + indent, end));
      this.nextLine();
    }
    // Trailing empty lines belong to the block only for chomping, which drops them here.
    const body = parts.join('\n');
    return strip ? body : body + '\n';
  }
}
