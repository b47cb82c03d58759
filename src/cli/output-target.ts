import { UsageError } from './errors.js';
import { printLine } from './report.js';

/** Where a command's output goes, and in which format. */
export interface OutputTarget {
  format: string;
  /** A file to write atomically, or null for standard output. */
  file: string | null;
}

/**
 * Reads `-o FILE` and `--format`: -o names the file (written atomically),
 * --format the format, in every command. A format name given to -o (`-o json`,
 * as earlier releases took it) still picks that format on stdout, with a
 * deprecation warning. A file really called `json` is `-o ./json`.
 */
export function outputTarget(output: string | undefined, format: string | undefined, formats: string[]): OutputTarget {
  if (format !== undefined && !formats.includes(format)) throw new UsageError(`--format ${JSON.stringify(format)}: use ${formats.join(', ')}`);
  if (output !== undefined && formats.includes(output)) {
    if (format !== undefined && format !== output) throw new UsageError(`-o ${output} and --format ${format} disagree; give one of them`);
    // -o names a file in every command (as in generate); a format given to -o is read for one more release.
    printLine(`kpc: warning: -o ${output} is deprecated: use --format ${output} (-o will name a file only, -o ./${output} for a file of that name)`);
    return { format: output, file: null };
  }
  if (output === '') throw new UsageError('-o needs a file name or a format');
  return { format: format ?? formats[0]!, file: output ?? null };
}
