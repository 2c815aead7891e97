/**
 * The run's seeded randomness (pure-rand's xoroshiro128+). Each client and the nemesis draw
 * from their own stream, split off by jumps, so one seed fixes every choice of the schedule
 * and of the workload whatever the interleaving (timings still vary from run to run).
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/** A seeded random stream. */
export class Rng {
  private constructor(private readonly gen: JumpableRandomGenerator) {}

  /** The root stream of a seed. */
  static of(seed: number): Rng {
    return new Rng(xoroshiro128plus(seed));
  }

  /** An independent stream (2^64 steps ahead); this stream moves on too. */
  split(): Rng {
    this.gen.jump();
    return new Rng(this.gen.clone());
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return uniformInt(this.gen, min, max);
  }

  /** A float in [0, 1). */
  float(): number {
    return uniformFloat64(this.gen);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** A key chosen with probability proportional to its weight. */
  weighted<K extends string>(weights: Partial<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let x = this.float() * total;
    for (const [k, w] of entries) {
      if ((x -= w) < 0) return k;
    }
    return (entries[entries.length - 1] as [K, number])[0];
  }
}
