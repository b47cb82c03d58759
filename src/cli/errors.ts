/** A mistake in how kpc was called (exit status 2). */
export class UsageError extends Error {}

/** Something the user must fix in a file or the host, already worded for them (exit status 1). */
export class UserError extends Error {}

/**
 * Standard output's reader went away before kpc was done (`kpc ... | head`).
 * Not a failure to report: kpc ends silently with CLOSED_PIPE_STATUS.
 */
export class ClosedPipe extends Error {}

/**
 * What a shell reports for a coreutils tool killed by SIGPIPE (128 + 13).
 * Node ignores SIGPIPE, so kpc cannot die of it; it exits with the status a
 * `set -o pipefail` script would see for `cat` in its place.
 */
export const CLOSED_PIPE_STATUS = 141;
