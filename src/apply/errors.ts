import type { ServiceChanges } from './services.js';

/** An apply that failed; the message says what failed and what the host was left with. */
export class ApplyError extends Error {}

/** The host cannot run apply at all (not Linux, not root, a tool missing). */
export class HostError extends Error {}

/**
 * An apply kpc will not do without --allow-empty (an input with no objects,
 * or one that would remove every Service kpc has on the host); nothing was
 * changed. `services` is what it would have done, for the user to read.
 */
export class ApplyRefusedError extends ApplyError {
  constructor(
    message: string,
    readonly services: ServiceChanges | null,
  ) {
    super(message);
  }
}
