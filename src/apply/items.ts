/**
 * The rules of a chain, or the elements of a set, as the incremental
 * planners hold them: mostly raw runs of the file's lines, read into items
 * only when a comparison needs them.
 *
 * At 10,000 service ports a rule file holds up to a million items, and one
 * changed endpoint changes a handful of chains and sets. Reading every line
 * into its own string was most of the planners' time (a quarter to half a
 * second per text). A run is a slice of the text: equal runs read into equal
 * items (`read` is a function of the run alone), so two objects whose runs
 * are equal are equal without reading them; only the unequal ones are read,
 * and then compared item by item as before.
 */
export class Items {
  /** Raw runs (read by `read`) and items already read, in order. */
  private readonly parts: (string | string[])[] = [];
  private listed: string[] | null = null;

  /** `read` turns a run into its items; it must depend on the run's text alone. */
  constructor(private readonly read: (run: string) => string[]) {}

  /** A slice of the file's text that `read` turns into items. */
  addRun(run: string): void {
    this.parts.push(run);
    this.listed = null;
  }

  /** An item read already (the general path). */
  add(item: string): void {
    const last = this.parts[this.parts.length - 1];
    if (Array.isArray(last)) last.push(item);
    else this.parts.push([item]);
    this.listed = null;
  }

  /** Every item, in order. */
  list(): string[] {
    if (this.listed === null) {
      const out: string[] = [];
      for (const part of this.parts) for (const item of typeof part === 'string' ? this.read(part) : part) out.push(item);
      this.listed = out;
    }
    return this.listed;
  }

  /** The raw text when the items are one run and nothing else (the usual element block), else null. */
  soleRun(): string | null {
    return this.parts.length === 1 && typeof this.parts[0] === 'string' ? this.parts[0] : null;
  }

  /** The same items, in the same order: first by the raw runs, then item by item. */
  equals(other: Items): boolean {
    return this.sameParts(other) || sameList(this.list(), other.list());
  }

  /** The same runs and items, part by part: the same items without reading any (false says nothing). */
  sameParts(other: Items): boolean {
    return this.parts.length === other.parts.length && this.parts.every((part, i) => samePart(part, other.parts[i]!));
  }
}

/**
 * The run a parser is extending over `text`: the Items it belongs to, the
 * prefix its lines start with (`-A NAME `, `add rule ip t NAME `) and its
 * span. A line that starts with the prefix continues it at the cost of one
 * comparison; anything else closes it into its Items.
 */
export class OpenRun {
  private items: Items | undefined;
  private prefix = '';
  private start = 0;
  private end = 0;

  constructor(private readonly text: string) {}

  /** Whether the line starting at `at` continues the run. */
  continues(at: number): boolean {
    return this.items !== undefined && this.text.startsWith(this.prefix, at);
  }

  /** The run now ends at `end` (a line that continued it). */
  extend(end: number): void {
    this.end = end;
  }

  /** Closes the run and opens one for `items` with the line [start, end). */
  open(items: Items, prefix: string, start: number, end: number): void {
    this.close();
    this.items = items;
    this.prefix = prefix;
    this.start = start;
    this.end = end;
  }

  close(): void {
    if (this.items) this.items.addRun(this.text.slice(this.start, this.end));
    this.items = undefined;
  }
}

function samePart(a: string | string[], b: string | string[]): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return sameList(a, b);
}

export function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/**
 * The lines of two texts outside their longest common head and tail of
 * whole lines, each middle ending with a newline (or empty). A set's block
 * with one changed element: the two middles hold that one line.
 */
export function differingLines(a: string, b: string): [string, string] {
  return differingWholeLines(`${a}\n`, `${b}\n`);
}

/** differingLines of texts that end with a newline (or are empty) already: no copies of them are made. */
export function differingWholeLines(x: string, y: string): [string, string] {
  const common = commonPrefix(x, y);
  const head = common === 0 ? 0 : x.lastIndexOf('\n', common - 1) + 1;
  const limit = Math.min(x.length, y.length) - head;
  let tail = commonSuffix(x, y, limit);
  // The tail starts a line in both: else it starts after its first newline (which both have, inside the common part).
  if (tail > 0 && !(startsLine(x, x.length - tail) && startsLine(y, y.length - tail))) {
    const next = x.indexOf('\n', x.length - tail);
    tail = next < 0 ? 0 : x.length - (next + 1);
  }
  return [x.slice(head, x.length - tail), y.slice(head, y.length - tail)];
}

const startsLine = (text: string, at: number) => at === 0 || text.charCodeAt(at - 1) === 10;

/** Chunk sizes for the comparisons below: native compares of long slices, then shorter ones. */
const STEPS = [65536, 4096, 256, 16, 1];

function commonPrefix(a: string, b: string): number {
  const limit = Math.min(a.length, b.length);
  let at = 0;
  for (const step of STEPS) while (at + step <= limit && a.startsWith(b.slice(at, at + step), at)) at += step;
  return at;
}

/** The common suffix's length, at most `limit`. */
function commonSuffix(a: string, b: string, limit: number): number {
  let length = 0;
  for (const step of STEPS) while (length + step <= limit && a.endsWith(b.slice(b.length - length - step, b.length - length), a.length - length)) length += step;
  return length;
}
