import { pick } from './hash.js';

/** Hashed candidates tried before the pool is walked in order. */
export const HASHED_ATTEMPTS = 32;
/** A pool larger than this is never walked address by address (an IPv6 range is too large to fill). */
const WALK_LIMIT = 1n << 24n;

/**
 * A range of numbered slots (addresses or ports) that hands each key the same
 * slot whatever other keys exist, unless one of them already holds it. The
 * slots below `staticBand` are left to explicit requests, as the API server
 * leaves them (KEP-3070 for cluster IPs, KEP-3668 for node ports), and used
 * only when the rest is full, as the API server does.
 *
 * The probe, documented in README ("From a chart to rules"): candidate k of a
 * key is sha256("KEY#k") mod the dynamic band's size (k = 0 is sha256("KEY")),
 * for k = 0..31; then the dynamic band in order from candidate 0, wrapping;
 * then the static band from its start.
 */
export class Pool<Owner> {
  private readonly taken = new Map<bigint, Owner>();

  constructor(
    readonly size: bigint,
    readonly staticBand: bigint,
  ) {}

  /** Marks a slot as held by an explicit request; returns the earlier holder, if any. */
  reserve(slot: bigint, owner: Owner): Owner | undefined {
    const earlier = this.taken.get(slot);
    if (earlier === undefined) this.taken.set(slot, owner);
    return earlier;
  }

  holder(slot: bigint): Owner | undefined {
    return this.taken.get(slot);
  }

  /** A free slot for `key`, now held by `owner`, or null when the pool is full. */
  allocate(key: string, owner: Owner): bigint | null {
    const slot = this.find(key);
    if (slot !== null) this.taken.set(slot, owner);
    return slot;
  }

  private find(key: string): bigint | null {
    const dynamic = this.size - this.staticBand;
    if (dynamic > 0n) {
      for (let attempt = 0; attempt < HASHED_ATTEMPTS; attempt++) {
        const slot = this.staticBand + pick(key, attempt, dynamic);
        if (!this.taken.has(slot)) return slot;
      }
      if (dynamic <= WALK_LIMIT) {
        const first = pick(key, 0, dynamic);
        for (let i = 1n; i < dynamic; i++) {
          const slot = this.staticBand + ((first + i) % dynamic);
          if (!this.taken.has(slot)) return slot;
        }
      }
    }
    for (let slot = 0n; slot < this.staticBand; slot++) if (!this.taken.has(slot)) return slot;
    return null;
  }
}

/**
 * The API server's static band: min(max(min, size/step), max) slots at the
 * bottom of the range, none for a range of `min` or fewer
 * (pkg/registry/core/service/ipallocator and portallocator, calculateRangeOffset).
 */
export function staticBand(size: bigint, bounds: { min: bigint; max: bigint; step: bigint }): bigint {
  if (size <= bounds.min) return 0n;
  const offset = size / bounds.step;
  return offset < bounds.min ? bounds.min : offset > bounds.max ? bounds.max : offset;
}

export const CLUSTER_IP_BAND = { min: 16n, max: 256n, step: 16n };
export const NODE_PORT_BAND = { min: 16n, max: 128n, step: 32n };
