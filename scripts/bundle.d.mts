export const ENTRY: string;
/** The single file bin/kpc runs. */
export const BUNDLE: string;
/** Bundles `entry` into `outfile`: by default dist/cli/main.js into dist/kpc.mjs. */
export function bundle(entry?: string, outfile?: string): Promise<void>;
