import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/** What writers take: text, or chunks of text written one after another (emitChunks' output). */
export type Content = string | Iterable<string>;

/** Writes of about this many bytes: few enough round trips to the thread pool. */
const BATCH_BYTES = 1024 * 1024;

function chunksOf(content: Content): Iterable<string> {
  return typeof content === 'string' ? [content] : content;
}

/**
 * Writes every chunk to an open file as UTF-8, in order, a batch of chunks
 * per system call. Each chunk is encoded only when its batch is written, so
 * the encoded copies die young.
 */
export async function writeChunksToFile(handle: FileHandle, content: Content): Promise<void> {
  let batch: Buffer[] = [];
  let size = 0;
  for (const chunk of chunksOf(content)) {
    const bytes = Buffer.from(chunk, 'utf8');
    batch.push(bytes);
    size += bytes.length;
    if (size >= BATCH_BYTES) {
      await writeBatch(handle, batch, size);
      batch = [];
      size = 0;
    }
  }
  if (size > 0) await writeBatch(handle, batch, size);
}

/** writev may write less than asked (a full disk, a signal): what is left is written again until done or an error. */
async function writeBatch(handle: FileHandle, batch: Buffer[], size: number): Promise<void> {
  let rest = batch;
  let left = size;
  while (left > 0) {
    const { bytesWritten } = await handle.writev(rest);
    left -= bytesWritten;
    rest = skipBytes(rest, bytesWritten);
  }
}

function skipBytes(buffers: Buffer[], count: number): Buffer[] {
  let i = 0;
  while (i < buffers.length && count >= buffers[i]!.length) count -= buffers[i++]!.length;
  const rest = buffers.slice(i);
  if (count > 0) rest[0] = rest[0]!.subarray(count);
  return rest;
}

/**
 * Writes every chunk to a stream, waiting for 'drain' when it is full, and
 * settles once the last chunk is handed to the system. Rejects with the
 * stream's first error (EPIPE when the reader went away) and writes nothing
 * more after it.
 */
export async function writeChunksToStream(stream: Writable, content: Content): Promise<void> {
  let failure: Error | null = null;
  const remember = (error: Error) => {
    failure ??= error;
  };
  stream.on('error', remember);
  try {
    let last: string | null = null;
    for (const chunk of chunksOf(content)) {
      if (last !== null && !stream.write(last)) await drained(stream);
      if (failure || stream.destroyed) break;
      last = chunk;
    }
    // The last write's callback says when everything before it is written too.
    if (last !== null && !failure && !stream.destroyed) {
      const error = await new Promise<Error | null | undefined>((resolve) => stream.write(last, resolve));
      if (error) remember(error);
    }
  } finally {
    stream.off('error', remember);
  }
  if (failure) throw failure;
  // Closed by someone else, without an error: the output is just as incomplete.
  if (stream.destroyed && !stream.writableFinished) throw Object.assign(new Error('the stream was closed'), { code: 'ERR_STREAM_DESTROYED' });
}

/** Resolves on 'drain', or on 'error' or 'close' (after which no 'drain' comes). */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writableNeedDrain) return resolve();
    const done = () => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
    stream.on('close', done);
  });
}
