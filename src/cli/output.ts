import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from './errors.js';

/**
 * Writes a file so that readers see the old content or the new, never half:
 * write a temporary file beside it, then rename over the target.
 */
export async function writeAtomically(path: string, content: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(temporary, content, { mode: 0o644 });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new UserError(`${path}: cannot be written (${(error as NodeJS.ErrnoException).code ?? String(error)}); check that its folder exists and is writable`);
  }
}

/**
 * Writes to standard output. A reader that goes away early (`kpc ... | head`)
 * makes the stream emit EPIPE; unhandled, Node would crash with a stack trace.
 */
export async function writeStdout(content: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') reject(new UserError('standard output was closed before all the output was written; the output is incomplete'));
      else reject(new UserError(`standard output cannot be written (${error.code ?? String(error)})`));
    };
    process.stdout.once('error', fail);
    process.stdout.write(content, (error) => {
      if (error) return fail(error);
      process.stdout.off('error', fail);
      resolve();
    });
  });
}

/**
 * Writes several files into a folder (created if missing). Every file is
 * complete before any is renamed into place, so a failure leaves no part
 * written and an earlier set untouched.
 */
export async function writeFilesAtomically(folder: string, files: { name: string; text: string }[]): Promise<void> {
  try {
    await mkdir(folder, { recursive: true });
  } catch (error) {
    throw new UserError(`${folder}: cannot create the output folder (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const staged = files.map((file) => ({ text: file.text, temporary: join(folder, `.${file.name}.${process.pid}.tmp`), target: join(folder, file.name) }));
  const fail = async (target: string, error: unknown, replaced = 0): Promise<never> => {
    // Leave no temporary file behind, whichever step failed.
    await Promise.all(staged.map((file) => rm(file.temporary, { force: true })));
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    const partial = replaced ? `; ${replaced} of ${staged.length} files were already replaced` : '';
    throw new UserError(`${target}: cannot be written (${code})${partial}; check that the folder is writable and has no folder of that name`);
  };
  for (const file of staged) {
    try {
      await writeFile(file.temporary, file.text, { mode: 0o644 });
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
