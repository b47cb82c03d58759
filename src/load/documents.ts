import { loadAll, YAMLException } from 'js-yaml';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { excessiveAliasing } from './aliasing.js';
import { loadBlockYaml } from './block-yaml.js';
import { KUBECTL_SCHEMA } from './kubectl-schema.js';
import { lineOfProblem, parseJson } from './json.js';
import { locateField } from './locate.js';
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
      for (const found of unwrapLists(doc, [], new Set())) {
        const origin = { source, documentIndex, pathInDocument: found.path };
        if (found.problem === null) objects.push({ value: found.value, origin });
        else diagnostics.push({ severity: 'error', file: source.name, line: locateField(origin, []), object: null, field: null, message: found.problem });
      }
    });
  }
  return { objects, diagnostics };
}

function parseSource(source: SourceText, diagnostics: Diagnostic[]): unknown[] {
  const text = source.text.replace(/^\uFEFF/, '');
  // JSON.parse is several times faster than a YAML parser on large kubectl dumps.
  if (/^\s*[{[]/.test(text)) {
    const json = parseJson(text);
    if (json !== null && 'value' in json) return [json.value];
    if (json !== null) {
      diagnostics.push({ severity: 'error', file: source.name, line: lineOfProblem(text, json.problem), object: null, field: null, message: json.problem.message });
      return [];
    }
    // Not strict JSON (a flow-style YAML document, or broken): the YAML parser decides and explains.
  }
  // Most manifests are plain block YAML, which the subset reader reads several times faster than js-yaml.
  const fast = loadBlockYaml(text);
  if (fast !== null) return fast;
  let documents: unknown[];
  try {
    documents = loadAll(text, null, { filename: source.name, schema: KUBECTL_SCHEMA });
  } catch (error) {
    diagnostics.push(yamlDiagnostic(source, error));
    return [];
  }
  return documents.map((doc, documentIndex) => withinAliasBound(doc, source, documentIndex, diagnostics));
}

/**
 * The document, or null (read as empty) when its aliases expand past the
 * bound Kubernetes' YAML reader sets (aliasing.ts): what is left of it must
 * not reach the checks that walk it as a tree.
 */
function withinAliasBound(doc: unknown, source: SourceText, documentIndex: number, diagnostics: Diagnostic[]): unknown {
  const problem = excessiveAliasing(doc);
  if (problem === null) return doc;
  const line = locateField({ source, documentIndex, pathInDocument: [] }, problem.path);
  diagnostics.push({ severity: 'error', file: source.name, line, object: null, field: null, message: problem.message });
  return null;
}

function yamlDiagnostic(source: SourceText, error: unknown): Diagnostic {
  if (error instanceof YAMLException) {
    const line = error.mark ? error.mark.line + 1 : null;
    return { severity: 'error', file: source.name, line, object: null, field: null, message: `not valid YAML or JSON: ${error.reason}; fix the syntax at this line` };
  }
  return { severity: 'error', file: source.name, line: null, object: null, field: null, message: `could not be parsed: ${String(error)}` };
}

/** As deep as js-yaml lets YAML nest; JSON.parse has no such limit. */
const MAX_LIST_DEPTH = 100;

interface Found {
  value: unknown;
  path: (string | number)[];
  /** Why this is not read as objects, or null. */
  problem: string | null;
}

/**
 * The objects of a document: itself, or the items of a List or a top-level
 * sequence, recursively. A YAML alias can make one list appear many times,
 * and nested aliases make that exponential (a few hundred bytes would unwrap
 * to billions of objects), so each list is unwrapped once per document.
 */
function* unwrapLists(doc: unknown, path: (string | number)[], seen: Set<object>, repeated = new Set<object>()): Generator<Found> {
  if (doc === null || doc === undefined) return;
  const items = Array.isArray(doc) ? doc : isList(doc) ? (doc as { items: unknown[] }).items : null;
  if (items === null) {
    yield { value: doc, path, problem: null };
    return;
  }
  if (seen.has(items)) {
    // Said once per list, however often it is repeated.
    if (!repeated.has(items)) yield { value: doc, path, problem: 'repeats a list already read (through a YAML alias); write each object out once' };
    repeated.add(items);
    return;
  }
  if (path.length >= MAX_LIST_DEPTH) {
    yield { value: doc, path, problem: `holds lists nested more than ${MAX_LIST_DEPTH} deep; kpc reads objects, Lists of objects and sequences of objects` };
    return;
  }
  seen.add(items);
  if (!Array.isArray(doc)) typeItems(doc as { kind: string; apiVersion?: unknown }, items);
  const at = Array.isArray(doc) ? path : [...path, 'items'];
  for (let i = 0; i < items.length; i++) yield* unwrapLists(items[i], [...at, i], seen, repeated);
}

/**
 * A typed list as the API server returns it (a ServiceList, an
 * EndpointSliceList: `kubectl get --raw`, client libraries) leaves out each
 * item's kind and apiVersion; they are the list's, kind without "List".
 */
function typeItems(list: { kind: string; apiVersion?: unknown }, items: unknown[]): void {
  if (list.kind === 'List') return;
  const kind = list.kind.slice(0, -'List'.length);
  for (const item of items) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) continue;
    const typed = item as { kind?: unknown; apiVersion?: unknown };
    if (typed.kind === undefined) typed.kind = kind;
    if (typed.apiVersion === undefined && list.apiVersion !== undefined) typed.apiVersion = list.apiVersion;
  }
}

function isList(doc: unknown): boolean {
  if (typeof doc !== 'object' || doc === null) return false;
  const { kind, items } = doc as { kind?: unknown; items?: unknown };
  return typeof kind === 'string' && kind.endsWith('List') && Array.isArray(items);
}
