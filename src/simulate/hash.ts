import { hash } from 'node:crypto';

/**
 * A number in [0, size) that depends only on `key` and `attempt`: the
 * simulation's every choice (an address, a port, a node) starts from one of
 * these, so an object's choice never depends on which other objects exist,
 * only on which of its candidates they already hold. sha256 spreads
 * neighbouring names evenly; 64 bits of it are enough for any range here.
 */
export function pick(key: string, attempt: number, size: bigint): bigint {
  const hex = hash('sha256', attempt === 0 ? key : `${key}#${attempt}`, 'hex');
  return BigInt(`0x${hex.slice(0, 16)}`) % size;
}

/** `pick` for small ranges, as a number. */
export function pickNumber(key: string, attempt: number, size: number): number {
  return Number(pick(key, attempt, BigInt(size)));
}

/** A weight for rendezvous hashing (placement): the node with the highest weight for a pod wins. */
export function weight(key: string, candidate: string): bigint {
  return BigInt(`0x${hash('sha256', `${key}@${candidate}`, 'hex').slice(0, 16)}`);
}

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** `length` characters of the alphabet the controllers name pods with (no vowels, no 0/1/3), from `key`. */
export function suffix(key: string, length: number): string {
  const hex = hash('sha256', key, 'hex');
  let value = BigInt(`0x${hex.slice(0, 24)}`);
  let out = '';
  for (let i = 0; i < length; i++, value /= 27n) out += SAFE[Number(value % 27n)];
  return out;
}
