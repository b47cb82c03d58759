/** A mistake in how kpc was called (exit status 2). */
export class UsageError extends Error {}

/** Something the user must fix in a file or the host, already worded for them (exit status 1). */
export class UserError extends Error {}
