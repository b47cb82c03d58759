import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/** What writers take: text, or chunks of text written one after another (emitChunks' output). */
export type Content = string | Iterable<string>;

/** Bytes per write: few round trips to the thread pool, and one buffer reused for all of them. */
const BATCH_BYTES = 2 * 1024 * 1024;
/** The most bytes UTF-8 needs for one UTF-16 code unit. */
const MAX_UTF8_PER_UNIT = 3;

function chunksOf(content: Content): Iterable<string> {
  return typeof content === 'string' ? [content] : content;
}

/**
 * Writes every chunk to an open file as UTF-8, in order. Chunks are encoded
 * into one reused buffer, written out whenever the next might not fit: 150 MB
 * of rules never become 150 MB of fresh buffers (each new page of memory is a
 * fault for the kernel to serve). A chunk too large for the buffer is encoded
 * on its own.
 */
export async function writeChunksToFile(handle: FileHandle, content: Content): Promise<void> {
  const buffer = Buffer.allocUnsafeSlow(BATCH_BYTES);
  let used = 0;
  for (const chunk of chunksOf(content)) {
    const most = chunk.length * MAX_UTF8_PER_UNIT;
    if (used > 0 && used + most > BATCH_BYTES) {
      await writeAll(handle, buffer.subarray(0, used));
      used = 0;
    }
    if (most > BATCH_BYTES) await writeAll(handle, Buffer.from(chunk, 'utf8'));
    else used += buffer.write(chunk, used, 'utf8');
  }
  if (used > 0) await writeAll(handle, buffer.subarray(0, used));
}

/** A write may take less than asked (a full disk, a signal): what is left is written again until done or an error. */
async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, at, bytes.length - at);
    at += bytesWritten;
  }
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
