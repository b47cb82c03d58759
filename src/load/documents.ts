import { loadAll, YAMLException } from 'js-yaml';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { LoadedObject, SourceText } from './source.js';

export interface LoadResult {
  objects: LoadedObject[];
  diagnostics: Diagnostic[];
}

/**
 * Parses every source into objects. Multi-document YAML, JSON, and `kind: List`
 * (or any `*List` with `items`) as kubectl prints them are all accepted; empty
 * documents are skipped.
 */
export function loadSources(sources: SourceText[]): LoadResult {
  const objects: LoadedObject[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const source of sources) {
    const documents = parseSource(source, diagnostics);
    documents.forEach((doc, documentIndex) => {
      for (const { value, path } of unwrapLists(doc, [])) {
        objects.push({ value, origin: { source, documentIndex, pathInDocument: path } });
      }
    });
  }
  return { objects, diagnostics };
}

function parseSource(source: SourceText, diagnostics: Diagnostic[]): unknown[] {
  const text = source.text.replace(/^\uFEFF/, '');
  // JSON.parse is several times faster than a YAML parser on large kubectl dumps.
  if (/^\s*[{[]/.test(text)) {
    try {
      return [JSON.parse(text)];
    } catch {
      // Not strict JSON (a flow-style YAML document, or broken): let the YAML parser decide and explain.
    }
  }
  try {
    return loadAll(text, { filename: source.name });
  } catch (error) {
    diagnostics.push(yamlDiagnostic(source, error));
    return [];
  }
}

function yamlDiagnostic(source: SourceText, error: unknown): Diagnostic {
  if (error instanceof YAMLException) {
    const line = error.mark ? error.mark.line + 1 : null;
    return { severity: 'error', file: source.name, line, object: null, field: null, message: `not valid YAML or JSON: ${error.reason}; fix the syntax at this line` };
  }
  return { severity: 'error', file: source.name, line: null, object: null, field: null, message: `could not be parsed: ${String(error)}` };
}

function* unwrapLists(doc: unknown, path: (string | number)[]): Generator<{ value: unknown; path: (string | number)[] }> {
  if (doc === null || doc === undefined) return;
  if (Array.isArray(doc)) {
    for (let i = 0; i < doc.length; i++) yield* unwrapLists(doc[i], [...path, i]);
    return;
  }
  if (isList(doc)) {
    const items = (doc as { items: unknown[] }).items;
    for (let i = 0; i < items.length; i++) yield* unwrapLists(items[i], [...path, 'items', i]);
    return;
  }
  yield { value: doc, path };
}

function isList(doc: unknown): boolean {
  if (typeof doc !== 'object' || doc === null) return false;
  const { kind, items } = doc as { kind?: unknown; items?: unknown };
  return typeof kind === 'string' && kind.endsWith('List') && Array.isArray(items);
}
