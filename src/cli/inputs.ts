import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceText } from '../load/source.js';
import { UserError } from './errors.js';

const MANIFEST = /\.(ya?ml|json)$/i;

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
 * standard input.
 */
export async function readInputs(paths: string[], stdin: () => Promise<string> = readStdin): Promise<SourceText[]> {
  const sources: SourceText[] = [];
  for (const path of paths) {
    if (path === '-') {
      sources.push({ name: '-', text: await stdin() });
      continue;
    }
    const files = await expand(path);
    // An empty folder compiles to an empty rule set, which would replace a node's rules with nothing.
    if (files.length === 0) throw new UserError(`${path}: no *.yaml, *.yml or *.json files in this folder; check the path given to -f`);
    for (const file of files) sources.push({ name: file, text: await readText(file) });
  }
  return sources;
}

async function expand(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new UserError(`${path}: no such file or folder; check the path given to -f`);
  }
  if (!info.isDirectory()) return [path];
  const found: string[] = [];
  const entries = await readdir(path, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) found.push(...(await expand(child)));
    else if (MANIFEST.test(entry.name)) found.push(child);
  }
  return found;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
