import { UsageError } from './errors.js';

/** Where a command's output goes, and in which format. */
export interface OutputTarget {
  format: string;
  /** A file to write atomically, or null for standard output. */
  file: string | null;
}

/**
 * Reads `-o` and `--format` the way generate and diff both use `-o`: a format
 * name given to -o (`-o json`, as kpc diff takes it) picks that format on
 * stdout; anything else is a file, written atomically, in --format's format.
 * A file really called `json` is `-o ./json`.
 */
export function outputTarget(output: string | undefined, format: string | undefined, formats: string[]): OutputTarget {
  if (format !== undefined && !formats.includes(format)) throw new UsageError(`--format ${JSON.stringify(format)}: use ${formats.join(', ')}`);
  if (output !== undefined && formats.includes(output)) {
    if (format !== undefined && format !== output) throw new UsageError(`-o ${output} and --format ${format} disagree; give one of them`);
    return { format: output, file: null };
  }
  if (output === '') throw new UsageError('-o needs a file name or a format');
  return { format: format ?? formats[0]!, file: output ?? null };
}
