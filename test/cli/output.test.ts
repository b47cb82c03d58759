import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeAtomically, writeFilesAtomically } from '../../src/cli/output.js';
import { UserError } from '../../src/cli/errors.js';
import { writeChunksToFile, writeChunksToStream } from '../../src/cli/write-chunks.js';
import { tempDir } from '../helpers/cli.js';

const dir = tempDir('kpc-output-');
const chunks = (...texts: string[]) => texts;
// Non-ASCII in some chunks: the writers encode UTF-8, and a byte count is not a character count.
const many = Array.from({ length: 300 }, (_, i) => `line ${i} ${i % 7 === 0 ? 'é→' : ''}${'x'.repeat(i * 37)}\n`);
const manyText = many.join('');

/** Chunks, then a failure partway, as a generator that meets a problem would give them. */
function* failingAfter(count: number, error: Error): Generator<string> {
  for (const chunk of many.slice(0, count)) yield chunk;
  throw error;
}

describe('writeAtomically with chunks', () => {
  it('writes the chunks in order and leaves no temporary file', async () => {
    const target = join(dir, 'ok.rules');
    await writeAtomically(target, many);
    expect(readFileSync(target, 'utf8')).toBe(manyText);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('on a write error keeps the old target, removes the temporary file and says what to check', async () => {
    const target = join(dir, 'kept.rules');
    writeFileSync(target, 'old rules\n');
    const full = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    const failure = writeAtomically(target, failingAfter(150, full));
    await expect(failure).rejects.toThrow(UserError);
    await expect(failure).rejects.toThrow(`${target}: cannot be written (ENOSPC); check that its folder exists and is writable`);
    expect(readFileSync(target, 'utf8')).toBe('old rules\n');
    expect(readdirSync(dir).filter((f) => f.startsWith('.kept.rules'))).toEqual([]);
  });

  it('passes on an error that is not the file system\'s as it is, still cleaning up', async () => {
    const target = join(dir, 'bug.rules');
    writeFileSync(target, 'old rules\n');
    const bug = new Error('unsafe token "a b"');
    await expect(writeAtomically(target, failingAfter(10, bug))).rejects.toBe(bug);
    expect(readFileSync(target, 'utf8')).toBe('old rules\n');
    expect(readdirSync(dir).filter((f) => f.startsWith('.bug.rules'))).toEqual([]);
  });

  it('still takes a string', async () => {
    const target = join(dir, 'text.rules');
    await writeAtomically(target, 'one line é\n');
    expect(readFileSync(target, 'utf8')).toBe('one line é\n');
  });
});

describe('writeFilesAtomically with chunks', () => {
  it('writes every file from its chunks', async () => {
    const out = join(dir, 'parts');
    await writeFilesAtomically(out, [
      { name: 'a.rules', content: chunks('a1\n', 'a2\n') },
      { name: 'b.rules', content: [] },
    ]);
    expect(readdirSync(out).sort()).toEqual(['a.rules', 'b.rules']);
    expect(readFileSync(join(out, 'a.rules'), 'utf8')).toBe('a1\na2\n');
    expect(readFileSync(join(out, 'b.rules'), 'utf8')).toBe('');
  });
});

describe('writeChunksToFile', () => {
  it('writes again what a short write left, until every byte is written', async () => {
    const written: Buffer[] = [];
    // A file that takes at most 7 bytes per call, as a disk near full or a signal can make write do.
    const handle = {
      write: async (buffer: Buffer, offset: number, length: number) => {
        const taken = buffer.subarray(offset, offset + Math.min(length, 7));
        written.push(Buffer.from(taken));
        return { bytesWritten: taken.length, buffer };
      },
    } as unknown as FileHandle;
    await writeChunksToFile(handle, chunks('first chunk\n', '', 'second\n', 'third, longer chunk\n'));
    expect(Buffer.concat(written).toString()).toBe('first chunk\nsecond\nthird, longer chunk\n');
  });

  it('writes chunks that fill its buffer many times over, and one larger than the buffer, byte for byte', async () => {
    const target = join(dir, 'large.rules');
    // 3 MB of 'é' (two bytes each) in one chunk, then 40 chunks of 300k characters with a multi-byte one at each end.
    const large = [`${'é'.repeat(1_500_000)}\n`, ...Array.from({ length: 40 }, (_, i) => `→${String(i).repeat(300_000)}é\n`)];
    await writeAtomically(target, large);
    expect(readFileSync(target).equals(Buffer.from(large.join(''), 'utf8'))).toBe(true);
  });
});

/** A stream that takes a chunk only after a delay: writes fill it and it asks for 'drain'. */
function slowSink(options: { failOnWrite?: number; code?: string } = {}) {
  const received: Buffer[] = [];
  let drains = 0;
  let writes = 0;
  const stream = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, callback) {
      writes++;
      if (options.failOnWrite === writes) return setImmediate(() => callback(Object.assign(new Error('broken pipe'), { code: options.code ?? 'EPIPE' })));
      received.push(chunk);
      setImmediate(callback);
    },
  });
  stream.on('drain', () => drains++);
  return { stream, received, drains: () => drains, writes: () => writes };
}

describe('writeChunksToStream', () => {
  it('waits for drain when the stream is full and writes every chunk in order', async () => {
    const sink = slowSink();
    await writeChunksToStream(sink.stream, many);
    expect(Buffer.concat(sink.received).toString()).toBe(manyText);
    expect(sink.drains()).toBeGreaterThan(0);
    expect(sink.stream.listenerCount('error')).toBe(0);
  });

  it('rejects with EPIPE when the reader goes away, and writes nothing after it', async () => {
    const sink = slowSink({ failOnWrite: 5 });
    await expect(writeChunksToStream(sink.stream, many)).rejects.toMatchObject({ code: 'EPIPE' });
    expect(sink.received.map(String)).toEqual(many.slice(0, 4));
    // At most what was already queued when the error came; never the rest of the 300.
    expect(sink.writes()).toBeLessThan(many.length);
  });

  it('rejects when the very last write fails', async () => {
    const sink = slowSink({ failOnWrite: 3, code: 'EIO' });
    await expect(writeChunksToStream(sink.stream, chunks('a\n', 'b\n', 'c\n'))).rejects.toMatchObject({ code: 'EIO' });
  });

  it('writes nothing and settles for no chunks', async () => {
    const sink = slowSink();
    await writeChunksToStream(sink.stream, []);
    expect(sink.writes()).toBe(0);
  });
});
