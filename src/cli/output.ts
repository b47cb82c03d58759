import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
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
  const staged: { temporary: string; target: string }[] = [];
  try {
    for (const file of files) {
      const target = join(folder, file.name);
      const temporary = join(folder, `.${file.name}.${process.pid}.tmp`);
      await writeFile(temporary, file.text, { mode: 0o644 });
      staged.push({ temporary, target });
    }
  } catch (error) {
    await Promise.all(staged.map((s) => rm(s.temporary, { force: true })));
    throw new UserError(`${folder}: cannot be written (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  for (const { temporary, target } of staged) await rename(temporary, target);
}
