/**
 * The flat pair counter of the matcher's state against a Map: same counts for any sequence of
 * increments, through the table's growth, including pairs that collide in their home slot.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PairCounter } from '../../../src/offers/pair-counter.js';

const key = (a: number, b: number): string => `${a}:${b}`;

describe('PairCounter', () => {
  it('counts like a Map keyed by the pair, before and after growing', () => {
    const pair = fc.tuple(
      fc.integer({ min: 0, max: 2 ** 31 - 2 }),
      fc.integer({ min: 0, max: 65_535 }),
    );
    fc.assert(
      fc.property(
        fc.array(pair, { maxLength: 300 }),
        fc.array(pair, { maxLength: 50 }),
        (adds, probes) => {
          const counter = new PairCounter();
          const reference = new Map<string, number>();
          for (const [a, b] of adds) {
            const count = (reference.get(key(a, b)) ?? 0) + 1;
            reference.set(key(a, b), count);
            expect(counter.increment(a, b)).toBe(count);
          }
          expect(counter.size).toBe(reference.size);
          for (const [a, b] of [...adds, ...probes]) {
            expect(counter.get(a, b)).toBe(reference.get(key(a, b)) ?? 0);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps every pair through several doublings', () => {
    const counter = new PairCounter();
    // 20,000 pairs force the 4,096-slot table to double several times.
    for (let a = 0; a < 200; a++) for (let b = 0; b < 100; b++) counter.increment(a, b * 7);
    counter.increment(5, 14);
    expect(counter.size).toBe(20_000);
    expect(counter.get(5, 14)).toBe(2);
    expect(counter.get(199, 693)).toBe(1);
    expect(counter.get(199, 694)).toBe(0);
    expect(counter.get(200, 0)).toBe(0);
  });
});
