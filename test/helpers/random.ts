import { Random } from '../../bench/generate-cluster.js';

/** Seeded numbers in [0, 1) (the bench generator's mulberry32), so a failing case can be replayed from its seed. */
export function random(seed: number): () => number {
  const source = new Random(seed);
  return () => source.next();
}
