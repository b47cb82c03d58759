/**
 * About how many characters of lines make one chunk. Large enough that a
 * 100 MB rule set is a few thousand chunks, small enough that the string being
 * filled dies young and costs the garbage collector little.
 */
const CHUNK_CHARS = 64 * 1024;

/**
 * Lines of output kept as UTF-8 chunks instead of one string per line. A
 * 10k-service rule set has some 400k lines; held as strings until the end
 * they take several times their size in heap and most of emit's time in
 * garbage collection, and joined into one string they are a second copy.
 * Chunks are written out as they are, never joined.
 */
export class TextBlock {
  private readonly sealed: Buffer[] = [];
  /** Lines not yet sealed, and their length in characters (newlines included). */
  private pending: string[] = [];
  private pendingChars = 0;

  /** Appends one line; `text` has no newline of its own. */
  line(text: string): void {
    this.pending.push(text);
    this.pendingChars += text.length + 1;
    if (this.pendingChars >= CHUNK_CHARS) this.seal();
  }

  get isEmpty(): boolean {
    return this.pending.length === 0 && this.sealed.length === 0;
  }

  /** Every line so far, as chunks that each end at the end of a line. */
  chunks(): Buffer[] {
    this.seal();
    return this.sealed;
  }

  private seal(): void {
    if (this.pending.length === 0) return;
    // One join copies each line once into a flat string; appending line by line built a tree of strings to flatten.
    this.pending.push('');
    this.sealed.push(Buffer.from(this.pending.join('\n'), 'utf8'));
    this.pending = [];
    this.pendingChars = 0;
  }
}

/** The text of chunks, for callers that want one string (apply, explain, diff, tests). */
export function joinChunks(chunks: readonly Uint8Array[]): string {
  return Buffer.concat(chunks).toString('utf8');
}
