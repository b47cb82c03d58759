/** One input text as the CLI read it: the core never touches the file system. */
export interface SourceText {
  /** The name to report: a path as the user gave it, or '-' for stdin. */
  name: string;
  text: string;
}

/** Where a loaded object came from, precise enough to find any of its fields again. */
export interface ObjectOrigin {
  source: SourceText;
  /** Index of the YAML document within the source. */
  documentIndex: number;
  /** Path from the document root to the object (e.g. ['items', 3] inside a List). */
  pathInDocument: (string | number)[];
}

/** A parsed object with its origin. `value` is untrusted until validated. */
export interface LoadedObject {
  value: unknown;
  origin: ObjectOrigin;
}
