/**
 * YAML aliases as js-yaml reads them: one shared JavaScript value per anchor,
 * repeated wherever an alias names it. Shared, a "billion laughs" document of
 * a few hundred bytes is small; but everything after the load step (the JSON
 * Schema, the semantic checks, String() of a value) walks objects as trees,
 * and nine nested aliases of nine make a tree of 43 million nodes.
 *
 * Kubernetes reads manifests through sigs.k8s.io/yaml, whose go-yaml decoder
 * refuses a document with "excessive aliasing": it counts every node it
 * decodes, and the ones decoded through an alias, and fails once more than
 * 100 of over 1,000 came through aliases and their share passes a ratio
 * (99% up to 400,000 nodes, falling to 10% at 4,000,000; go-yaml's
 * allowedAliasRatio). This is the same bound, counted while walking the
 * document as a tree, so the walk stops as soon as it is passed.
 */

/** Why a document's aliases are refused, and the path to the alias where the expansion began. */
export interface AliasProblem {
  path: (string | number)[];
  message: string;
}

/** Nodes visited by the check, so tests count work instead of timing it. */
export const aliasWork = { nodes: 0 };

/**
 * Deeper than js-yaml lets a document nest (100), reachable only through
 * aliases inside aliases; the walk is recursive, as are the schema checks.
 */
const MAX_DEPTH = 200;

/** The document's problem with aliases, or null when it expands within go-yaml's bound. */
export function excessiveAliasing(doc: unknown): AliasProblem | null {
  const walk = new AliasWalk();
  try {
    walk.visit(doc, false, 0);
    return null;
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    return { path: walk.entry ?? [], message: error.message };
  }
}

class Refused extends Error {}

class AliasWalk {
  private decoded = 0;
  private throughAliases = 0;
  /** Collections already read once: meeting one again is an alias. */
  private readonly seen = new Set<object>();
  /** Collections being read (the path from the root): meeting one of them is an alias to itself. */
  private readonly open = new Set<object>();
  /** The path from the root to where the walk stands. */
  private readonly path: (string | number)[] = [];
  /** Where the alias being expanded, or the last one expanded (the bound can be passed just after it), is written. */
  entry: (string | number)[] | null = null;

  visit(value: unknown, inAlias: boolean, depth: number): void {
    const collection = typeof value === 'object' && value !== null ? value : null;
    const alias = inAlias || (collection !== null && this.seen.has(collection));
    if (alias && !inAlias) this.entry = [...this.path];
    this.count(alias);
    if (collection === null) return;
    if (this.open.has(collection)) throw new Refused('excessive aliasing: an alias refers to a node that contains it, which has no end; expand the aliases or simplify');
    if (depth >= MAX_DEPTH) throw new Refused(`excessive aliasing: aliases nest the document more than ${MAX_DEPTH} levels deep; expand the aliases or simplify`);
    if (!alias) this.seen.add(collection);
    this.open.add(collection);
    if (Array.isArray(collection)) {
      for (let i = 0; i < collection.length; i++) this.child(i, collection[i], alias, depth);
    } else {
      for (const key of Object.keys(collection)) {
        this.count(alias);
        this.child(key, (collection as Record<string, unknown>)[key], alias, depth);
      }
    }
    this.open.delete(collection);
  }

  private child(key: string | number, value: unknown, inAlias: boolean, depth: number): void {
    this.path.push(key);
    this.visit(value, inAlias, depth + 1);
    this.path.pop();
  }

  private count(alias: boolean): void {
    aliasWork.nodes++;
    this.decoded++;
    if (alias) this.throughAliases++;
    if (this.throughAliases > 100 && this.decoded > 1000 && this.throughAliases / this.decoded > allowedAliasRatio(this.decoded)) {
      throw new Refused(`excessive aliasing: ${this.throughAliases} of the first ${this.decoded} values come through aliases, more than Kubernetes' YAML reader allows; expand the aliases or simplify`);
    }
  }
}

/** go-yaml's allowedAliasRatio: what share of the values decoded so far may come through aliases. */
function allowedAliasRatio(decoded: number): number {
  if (decoded <= 400_000) return 0.99;
  if (decoded >= 4_000_000) return 0.1;
  return 0.99 - (0.89 * (decoded - 400_000)) / 3_600_000;
}
