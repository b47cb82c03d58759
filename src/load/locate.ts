import { parseEvents, getScalarValue, type Event } from 'js-yaml-events';
import type { ObjectOrigin, SourceText } from './source.js';

/**
 * Finds the 1-based line of a field inside a loaded object, or of the nearest
 * enclosing node that exists. Only called when there is something to report,
 * so the cost of re-reading the source as YAML events is paid on errors alone.
 */
export function locateField(origin: ObjectOrigin, fieldPath: (string | number)[]): number | null {
  const offsets = offsetsOf(origin.source, origin.documentIndex);
  if (!offsets) return null;
  const full = [...origin.pathInDocument, ...fieldPath];
  for (let n = full.length; n >= 0; n--) {
    const offset = offsets.get(pathKey(full.slice(0, n)));
    if (offset !== undefined) return lineOf(origin.source, offset);
  }
  return null;
}

/** js-yaml's event type numbers (its EVENT_ID, which the package does not export at run time). */
const EVENT_ID = { DOCUMENT: 1, SEQUENCE: 2, MAPPING: 3, SCALAR: 4, ALIAS: 5, POP: 6 } as const;

const cache = new WeakMap<SourceText, Map<number, Map<string, number>>>();

function offsetsOf(source: SourceText, documentIndex: number): Map<string, number> | null {
  let perDoc = cache.get(source);
  if (!perDoc) {
    perDoc = indexDocuments(source.text);
    cache.set(source, perDoc);
  }
  return perDoc.get(documentIndex) ?? null;
}

interface Frame {
  kind: 'map' | 'seq';
  path: (string | number)[];
  /** For maps: the pending key, or null when the next scalar is a key. */
  key: string | null;
  index: number;
}

/** Walks the event stream once, recording the start offset of every node by path. */
function indexDocuments(text: string): Map<number, Map<string, number>> {
  const result = new Map<number, Map<string, number>>();
  let events: Event[];
  try {
    events = parseEvents(text, {});
  } catch {
    return result;
  }
  let doc = -1;
  let offsets = new Map<string, number>();
  const stack: Frame[] = [];
  const childPath = (): (string | number)[] | null => {
    const top = stack[stack.length - 1];
    if (!top) return [];
    if (top.kind === 'seq') return [...top.path, top.index++];
    if (top.key === null) return null;
    const path = [...top.path, top.key];
    top.key = null;
    return path;
  };
  for (const event of events) {
    switch (event.type) {
      case EVENT_ID.DOCUMENT:
        doc++;
        offsets = new Map();
        result.set(doc, offsets);
        stack.length = 0;
        break;
      case EVENT_ID.SCALAR: {
        const path = childPath();
        if (path === null) {
          // A mapping key: remember where the key stands, so the field's line is the key's line.
          const top = stack[stack.length - 1]!;
          top.key = getScalarValue(text, event);
          offsets.set(pathKey([...top.path, top.key]), event.valueStart);
        } else if (!offsets.has(pathKey(path))) {
          // An empty node (`--- !!map` with nothing after it) has no value: it stands where its tag or anchor does.
          const at = event.valueStart >= 0 ? event.valueStart : Math.max(event.tagStart, event.anchorStart);
          if (at >= 0) offsets.set(pathKey(path), at);
        }
        break;
      }
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const path = childPath() ?? [];
        if (!offsets.has(pathKey(path))) offsets.set(pathKey(path), event.start);
        stack.push({ kind: event.type === EVENT_ID.MAPPING ? 'map' : 'seq', path, key: null, index: 0 });
        break;
      }
      case EVENT_ID.ALIAS: {
        // An alias stands where it is written: what is reported inside the value it repeats is reported on its line.
        const path = childPath();
        if (path !== null && !offsets.has(pathKey(path))) offsets.set(pathKey(path), event.anchorStart);
        break;
      }
      case EVENT_ID.POP:
        stack.pop();
        break;
    }
  }
  return result;
}

function pathKey(path: (string | number)[]): string {
  return JSON.stringify(path);
}

/**
 * Work done mapping offsets to lines (line starts recorded, search steps), so
 * a test can check the cost is linear in the input by counting, not timing.
 */
export const locateWork = { steps: 0 };

/**
 * The 1-based line of an offset, by binary search in the source's line starts,
 * recorded once per source: scanning the text from its start for every
 * diagnostic made 10,000 reports on 10,000 documents cost 12 s.
 */
function lineOf(source: SourceText, offset: number): number {
  const starts = lineStartsOf(source);
  let low = 0;
  let high = starts.length - 1;
  // The last line starting at or before the offset.
  while (low < high) {
    locateWork.steps++;
    const mid = (low + high + 1) >>> 1;
    if (starts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return low + 1;
}

const lineStarts = new WeakMap<SourceText, number[]>();

function lineStartsOf(source: SourceText): number[] {
  let starts = lineStarts.get(source);
  if (starts) return starts;
  starts = [0];
  const { text } = source;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) {
    locateWork.steps++;
    starts.push(at + 1);
  }
  lineStarts.set(source, starts);
  return starts;
}
