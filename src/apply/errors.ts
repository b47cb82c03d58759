/** An apply that failed; the message says what failed and what the host was left with. */
export class ApplyError extends Error {}

/** The host cannot run apply at all (not Linux, not root, a tool missing). */
export class HostError extends Error {}
