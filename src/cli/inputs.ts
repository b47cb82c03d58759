import { constants as bufferConstants } from 'node:buffer';
import type { Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceText } from '../load/source.js';
import { UsageError, UserError } from './errors.js';
import { printDiagnostics } from './report.js';

const MANIFEST = /\.(ya?ml|json)$/i;

/**
 * The most kpc reads from one input (a file or standard input), unless
 * KPC_MAX_INPUT_BYTES says otherwise: over twice the 108 MB of a generated
 * 30,000-service cluster, which needs 0.6 GB to compile. The text of one
 * input is one string, and V8 holds none longer than MAX_STRING_LENGTH
 * (512 MiB less 24 characters), so no setting goes past that.
 */
export const DEFAULT_MAX_INPUT_BYTES = 256 * 1024 * 1024;

export function maxInputBytes(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.KPC_MAX_INPUT_BYTES;
  if (given === undefined || given === '') return DEFAULT_MAX_INPUT_BYTES;
  const ceiling = bufferConstants.MAX_STRING_LENGTH;
  const bytes = /^[0-9]+$/.test(given) ? Number(given) : NaN;
  if (!(bytes >= 1 && bytes <= ceiling)) throw new UsageError(`KPC_MAX_INPUT_BYTES=${JSON.stringify(given)}: give a whole number of bytes from 1 to at most ${ceiling} (the longest text Node holds)`);
  return bytes;
}

export interface InputOptions {
  /** Standard input's bytes (process.stdin unless a test gives its own). */
  stdin?: () => AsyncIterable<Uint8Array>;
  /** The most bytes one input may hold (maxInputBytes() unless given). */
  maxBytes?: number;
  /** Where warnings about skipped folder entries go (stderr unless given). */
  warn?: (warning: Diagnostic) => void;
}

/**
 * Collects repeated -f values. It must not be given a default ([]): commander
 * counts a default as the option given, and -f would no longer be required.
 */
export function appendFile(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Reads every -f PATH: a file, a folder (recursively, *.yaml, *.yml, *.json,
 * in name order so the result does not depend on the file system), or '-' for
 * standard input. Each input is read up to the size limit and refused past it.
 */
export async function readInputs(paths: string[], options: InputOptions = {}): Promise<SourceText[]> {
  const limit = options.maxBytes ?? maxInputBytes();
  const warn = options.warn ?? ((warning: Diagnostic) => printDiagnostics([warning]));
  const sources: SourceText[] = [];
  for (const path of paths) {
    if (path === '-') {
      const stdin = options.stdin ?? (() => process.stdin);
      sources.push({ name: '-', text: await readBounded(stdin(), 'standard input', limit) });
      continue;
    }
    const files = await expand(path, warn);
    // An empty folder compiles to an empty rule set, which would replace a node's rules with nothing.
    if (files.length === 0) throw new UserError(`${path}: no *.yaml, *.yml or *.json files in this folder; check the path given to -f`);
    for (const file of files) sources.push({ name: file, text: await readText(file, limit) });
  }
  return sources;
}

/** The files a -f PATH names: itself, or the manifests in the folder it names. */
async function expand(path: string, warn: (warning: Diagnostic) => void): Promise<string[]> {
  const info = await statPath(path, `${path}: no such file or folder; check the path given to -f`);
  // Named explicitly, anything readable is read (a pipe from `-f <(command)` too), up to the limit.
  if (!info.isDirectory()) return [path];
  const found: string[] = [];
  await collect(path, found, warn);
  return found;
}

/**
 * The manifests in a folder and its subfolders. Only regular files are read:
 * a FIFO would block kpc until something writes to it, and a device could
 * never end. Symbolic links to files are read; links to folders are not
 * followed (as kubectl -R), so a link cannot lead the walk in a circle.
 */
async function collect(folder: string, found: string[], warn: (warning: Diagnostic) => void): Promise<void> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    throw unreadable(folder, error);
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const child = join(folder, entry.name);
    if (entry.isDirectory()) {
      await collect(child, found, warn);
      continue;
    }
    if (entry.isSymbolicLink()) {
      const target = await statOf(child);
      if (target.isDirectory()) warn(warning(child, 'is a symbolic link to a folder, which is not followed; give it with -f to read it'));
      else if (MANIFEST.test(entry.name)) addRegular(child, target, found, warn);
      continue;
    }
    if (MANIFEST.test(entry.name)) addRegular(child, entry.isFile() ? null : await statOf(child), found, warn);
  }
}

/** What a path the user gave is; `missing` is the message when there is nothing there, any other failure names its reason. */
export async function statPath(path: string, missing: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserError(missing);
    throw unreadable(path, error);
  }
}

/** One file's text (a rule set for diff or explain), held to the same limit as every input. */
export function readInputFile(path: string, missing: string): Promise<string> {
  return readText(path, maxInputBytes(), missing);
}

/** A folder's entry, if it is a regular file (info null: the folder listing said so already). */
function addRegular(file: string, info: Stats | null, found: string[], warn: (warning: Diagnostic) => void): void {
  if (info === null || info.isFile()) found.push(file);
  else warn(warning(file, `is ${typeName(info)}, not a regular file; skipped`));
}

async function statOf(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (error) {
    throw unreadable(path, error);
  }
}

function typeName(info: Stats): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isDirectory()) return 'a folder';
  return 'not a file';
}

function warning(file: string, message: string): Diagnostic {
  return { severity: 'warning', file, line: null, object: null, field: null, message };
}

/** One input's text, refused before reading when its size is known to be over the limit, and while reading when not. */
async function readText(file: string, limit: number, missing = `${file}: no such file`): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserError(missing);
    throw unreadable(file, error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return await readBounded(handle.createReadStream({ autoClose: false, highWaterMark: 1024 * 1024 }), file, limit);
    if (info.size > limit) throw tooLarge(file, limit);
    // A regular file in one read: half the time of a stream of chunks on a 100 MB file. It can only have grown since.
    const bytes = await handle.readFile();
    if (bytes.length > limit) throw tooLarge(file, limit);
    return bytes.toString('utf8');
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw unreadable(file, error);
  } finally {
    await handle.close();
  }
}

/**
 * Reads a stream to its end as UTF-8, stopping as soon as it passes `limit`
 * bytes: an endless standard input must end kpc with a clear message, not
 * grow its memory until the system kills it.
 */
async function readBounded(stream: AsyncIterable<Uint8Array>, name: string, limit: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    // Leaving the loop stops the stream: nothing more is read.
    if (total > limit) throw tooLarge(name, limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

function tooLarge(name: string, limit: number): UserError {
  return new UserError(`${name}: more than ${limit} bytes, the most kpc reads from one input (KPC_MAX_INPUT_BYTES); split it into files, or raise the limit`);
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'a symbolic link that leads back to itself',
  EISDIR: 'a folder',
  EIO: 'input/output error',
};

const ADVICE: Record<string, string> = {
  EACCES: 'check its permissions',
  EPERM: 'check its permissions',
  ELOOP: 'fix or remove the link',
};

/** A path kpc cannot read, as an input error (exit 1) that names it, not an internal error. */
function unreadable(path: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined) return new UserError(`${path}: cannot be read (${String((error as Error)?.message ?? error)})`);
  const reason = REASONS[code];
  const advice = ADVICE[code];
  return new UserError(`${path}: cannot be read (${reason ? `${code}: ${reason}` : code})${advice ? `; ${advice}` : ''}`);
}
