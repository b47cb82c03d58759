/**
 * About how many characters of lines make one chunk: over V8's largest
 * regular object (128 KB), so each chunk string is made in large-object space
 * and never copied by the young-generation collector (64K chunks were copied
 * twice each, a third more scavenge time at 30k service ports), and small
 * enough that the lines waiting to be joined stay few.
 */
const CHUNK_CHARS = 160 * 1024;

/**
 * Lines of output kept as chunks of whole lines instead of one string per
 * line. A 10k-service rule set has some 400k lines; held one by one until the
 * end they take several times their size in heap and most of emit's time in
 * garbage collection, and joined into one string they are a second copy.
 * Chunks are written out as they are, never joined.
 *
 * Chunks are strings, not UTF-8 Buffers: V8 counts Buffers as external
 * memory and runs a full mark-compact of the whole heap (the routing graph
 * included) for every 64 MB of them. At 30k service ports that was seven
 * such collections and over a second per emit; as strings there are none.
 * The writer encodes each chunk as it writes it.
 */
export class TextBlock {
  private readonly sealed: string[] = [];
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
  chunks(): string[] {
    this.seal();
    return this.sealed;
  }

  private seal(): void {
    if (this.pending.length === 0) return;
    // One join copies each line once into a flat string; appending line by line built a tree of strings to flatten.
    this.pending.push('');
    this.sealed.push(this.pending.join('\n'));
    this.pending = [];
    this.pendingChars = 0;
  }
}

/** The text of chunks, for callers that want one string (apply, explain, diff, tests). */
export function joinChunks(chunks: readonly string[]): string {
  return chunks.join('');
}
