/**
 * The matcher's only source of randomness: a seeded mulberry32 generator. Every random choice
 * (sample order, tie breaks, ports) draws from it so that the same input, seed and pool size
 * always give the same result, which the property tests and replays depend on.
 */

/** A deterministic pseudo-random stream. */
export interface SeededRandom {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

/** Makes a mulberry32 stream: 32-bit state, fast, and good enough for placement choices. */
export function makeSeededRandom(seed: number): SeededRandom {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n) };
}

/**
 * Derives an independent seed for a sub-stream (e.g. one per pool shard), so shards do not
 * replay each other's choices. A murmur3-style finaliser over the pair.
 */
export function deriveSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Shuffles `items` in place (Fisher-Yates) with `rng`. */
export function shuffleInPlace(items: Int32Array, rng: SeededRandom): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
}
