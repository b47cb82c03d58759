import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ClosedPipe, UserError } from './errors.js';
import { writeChunksToFile, writeChunksToStream, type Content } from './write-chunks.js';

/** A system error (from the file system or a stream) has a code; anything else is a bug and stays as it is. */
function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** Writes content into a new file (replacing any file of that name), closing it whatever happens. */
async function writeNewFile(path: string, content: Content): Promise<void> {
  const handle = await open(path, 'w', 0o644);
  try {
    await writeChunksToFile(handle, content);
  } finally {
    await handle.close();
  }
}

/**
 * Writes a file so that readers see the old content or the new, never half:
 * write a temporary file beside it, chunk by chunk, then rename over the
 * target. On any failure the temporary file is removed and the target is
 * left as it was.
 */
export async function writeAtomically(path: string, content: Content): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeNewFile(temporary, content);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    if (codeOf(error) === undefined) throw error;
    throw new UserError(`${path}: cannot be written (${codeOf(error)}); check that its folder exists and is writable`);
  }
}

/**
 * Writes to standard output, chunk by chunk as the stream takes them. A
 * reader that goes away early (`kpc ... | head`) makes the stream emit EPIPE:
 * the user stopped reading on purpose, so kpc ends as `cat` would there,
 * without a word (see ClosedPipe). Unhandled, Node would crash with a stack trace.
 */
export async function writeStdout(content: Content): Promise<void> {
  try {
    await writeChunksToStream(process.stdout, content);
  } catch (error) {
    const code = codeOf(error);
    if (code === 'EPIPE') throw new ClosedPipe('standard output was closed');
    if (code === undefined) throw error;
    throw new UserError(`standard output cannot be written (${code})`);
  }
}

/**
 * Writes several files into a folder (created if missing). Every file is
 * complete before any is renamed into place, so a failure leaves no part
 * written and an earlier set untouched.
 */
export async function writeFilesAtomically(folder: string, files: { name: string; content: Content }[]): Promise<void> {
  try {
    await mkdir(folder, { recursive: true });
  } catch (error) {
    throw new UserError(`${folder}: cannot create the output folder (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const staged = files.map((file) => ({ content: file.content, temporary: join(folder, `.${file.name}.${process.pid}.tmp`), target: join(folder, file.name) }));
  const fail = async (target: string, error: unknown, replaced = 0): Promise<never> => {
    // Leave no temporary file behind, whichever step failed.
    await Promise.all(staged.map((file) => rm(file.temporary, { force: true })));
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    const partial = replaced ? `; ${replaced} of ${staged.length} files were already replaced` : '';
    throw new UserError(`${target}: cannot be written (${code})${partial}; check that the folder is writable and has no folder of that name`);
  };
  for (const file of staged) {
    try {
      await writeNewFile(file.temporary, file.content);
    } catch (error) {
      await fail(file.target, error);
    }
  }
  // A folder where a file should go is what makes a rename fail: find it before any file is replaced.
  for (const file of staged) {
    if ((await stat(file.target).catch(() => null))?.isDirectory()) await fail(file.target, { code: 'EISDIR' });
  }
  for (const [i, file] of staged.entries()) {
    try {
      await rename(file.temporary, file.target);
    } catch (error) {
      await fail(file.target, error, i);
    }
  }
}
