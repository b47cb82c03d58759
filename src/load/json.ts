import { FloatScalar } from './kubectl-scalars.js';

/** Why a JSON text that JSON.parse accepts is still refused, and where. */
export interface JsonProblem {
  /** 0-based offset of the offending token. */
  offset: number;
  message: string;
}

/**
 * A JSON text read with the rules kpc applies to YAML: a key written twice
 * in one object is an error (JSON.parse quietly keeps the last, and the API
 * server's strict field validation refuses it), and a number written with a
 * fraction or an exponent (80.0, 1e3, 1e400) is a FloatScalar, so that an
 * integer field can say what was written instead of taking 80 or calling
 * Infinity "null".
 *
 * JSON.parse stays the reader. A scan of the text counts the keys written
 * and reads the numbers that are their values; a walk of the parsed value
 * counts the keys it holds. Only when they differ (a key written twice), a
 * value is a float, or a list holds a number (which the scan does not reach,
 * and Kubernetes objects hardly have), is the text read again by the exact
 * reader below. Returns null when the text is not JSON at all (the YAML
 * reader then decides).
 */
export function parseJson(text: string): { value: unknown } | { problem: JsonProblem } | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const written = scanJson(text);
  if (written !== null && !written.floats) {
    const held = keysHeld(value);
    if (!held.numberInList && held.keys === written.keys) return { value };
  }
  try {
    return { value: new ExactReader(text).document() };
  } catch (error) {
    if (error instanceof ExactReaderProblem) return { problem: { offset: error.offset, message: error.message } };
    throw error;
  }
}

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;

/**
 * How many keys the text writes, and whether a key's value is a number with
 * a fraction or an exponent; null if a string does not end. It jumps from
 * string to string with indexOf, so the indentation between them, half of a
 * `kubectl -o json` text, is never looked at character by character.
 */
function scanJson(text: string): { keys: number; floats: boolean } | null {
  let keys = 0;
  let at = 0;
  // Where the next string opens, when a key's value is one (found without a search).
  let next = -1;
  for (;;) {
    const open = next !== -1 ? next : text.indexOf('"', at);
    if (open === -1) return { keys, floats: false };
    next = -1;
    const end = stringEnd(text, open);
    if (end === -1) return null;
    at = end + 1;
    let c = text.charCodeAt(at);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(++at);
    if (c !== COLON) continue;
    keys++;
    c = text.charCodeAt(++at);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(++at);
    if (c === QUOTE) next = at;
    else if ((c >= 48 && c <= 57) || c === 45) {
      c = text.charCodeAt(++at);
      while (c >= 48 && c <= 57) c = text.charCodeAt(++at);
      // 46 '.', 101 'e', 69 'E'
      if (c === 46 || c === 101 || c === 69) return { keys, floats: true };
    }
  }
}

/** The offset of the quote that closes the string opening at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  while (end !== -1 && text.charCodeAt(end - 1) === BACKSLASH) {
    let before = end - 1;
    while (text.charCodeAt(before) === BACKSLASH) before--;
    // An even run of backslashes escapes itself, not the quote.
    if ((end - 1 - before) % 2 === 0) break;
    end = text.indexOf('"', end + 1);
  }
  return end;
}

/** How many keys the parsed objects hold, and whether a list holds a number; walked without recursion (JSON.parse nests without limit). */
function keysHeld(root: unknown): { keys: number; numberInList: boolean } {
  let keys = 0;
  let numberInList = typeof root === 'number';
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) {
        if (typeof item === 'object' && item !== null) stack.push(item);
        else if (typeof item === 'number') numberInList = true;
      }
      continue;
    }
    for (const key in value) {
      keys++;
      const item = (value as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) stack.push(item);
    }
  }
  return { keys, numberInList };
}

class ExactReaderProblem extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** As deep as the exact reader follows a JSON text; JSON.parse has no limit, this reader's stack has. */
const MAX_DEPTH = 1000;

const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

/**
 * A JSON reader for texts JSON.parse has accepted (so it checks only what
 * JSON.parse cannot tell): duplicate keys, and the numbers written with a
 * fraction or an exponent. Strings are decoded by JSON.parse itself.
 */
class ExactReader {
  private at = 0;

  constructor(private readonly text: string) {}

  document(): unknown {
    return this.value(0);
  }

  private skipSpace(): void {
    let c = this.text.charCodeAt(this.at);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = this.text.charCodeAt(++this.at);
  }

  private value(depth: number): unknown {
    this.skipSpace();
    const c = this.text.charCodeAt(this.at);
    if (c === 123 || c === 91) {
      if (depth >= MAX_DEPTH) throw new ExactReaderProblem(this.at, `nests objects and lists more than ${MAX_DEPTH} deep`);
      return c === 123 ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c === QUOTE) return this.string();
    if (c === 116) return this.literal('true', true);
    if (c === 102) return this.literal('false', false);
    if (c === 110) return this.literal('null', null);
    return this.number();
  }

  private object(depth: number): Record<string, unknown> {
    const entries = new Map<string, unknown>();
    const keyAt = new Map<string, number>();
    this.at++;
    this.skipSpace();
    if (this.text.charCodeAt(this.at) === 125) {
      this.at++;
      return {};
    }
    for (;;) {
      this.skipSpace();
      const at = this.at;
      const key = this.string();
      const first = keyAt.get(key);
      if (first !== undefined) {
        throw new ExactReaderProblem(at, `writes the key ${JSON.stringify(key)} twice in one object (first at line ${lineAt(this.text, first)}); the API server refuses duplicate fields, remove one`);
      }
      keyAt.set(key, at);
      this.skipSpace();
      this.at++; // the colon
      entries.set(key, this.value(depth));
      this.skipSpace();
      if (this.text.charCodeAt(this.at++) === 125) return Object.fromEntries(entries);
    }
  }

  private array(depth: number): unknown[] {
    const items: unknown[] = [];
    this.at++;
    this.skipSpace();
    if (this.text.charCodeAt(this.at) === 93) {
      this.at++;
      return items;
    }
    for (;;) {
      items.push(this.value(depth));
      this.skipSpace();
      if (this.text.charCodeAt(this.at++) === 93) return items;
    }
  }

  private string(): string {
    const end = stringEnd(this.text, this.at);
    const token = this.text.slice(this.at, end + 1);
    this.at = end + 1;
    return JSON.parse(token) as string;
  }

  private literal<T>(word: string, value: T): T {
    this.at += word.length;
    return value;
  }

  private number(): unknown {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text)!;
    this.at = NUMBER.lastIndex;
    const token = match[0];
    return match[1] !== undefined || match[2] !== undefined ? new FloatScalar(Number(token), token) : Number(token);
  }
}

/** The 1-based line of an offset (only for a problem's message). */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) line++;
  return line;
}

/** The 1-based line of a problem's offset. */
export function lineOfProblem(text: string, problem: JsonProblem): number {
  return lineAt(text, problem.offset);
}
