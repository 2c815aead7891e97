/**
 * Property tests of the single-threaded matcher over random clusters and workloads: every
 * result passes the independent checker (no over-commit, every rule holds, nothing left
 * pending that fits somewhere), and results are a function of input and seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REJECTION_REASONS, matchOffers, type MatchOptions } from '../../../src/offers/index.js';
import { world } from './arbitraries.js';
import { checkResult } from './independent-checker.js';

const optionSets: fc.Arbitrary<MatchOptions> = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  scoring: fc.constantFrom('binpack' as const, 'spread' as const),
  selection: fc.constantFrom('sample' as const, 'full' as const),
  // Small samples and no full-scan floor, so that sampling runs even on tiny clusters.
  sampleSize: fc.integer({ min: 1, max: 8 }),
  maxScan: fc.integer({ min: 1, max: 16 }),
  fullScanBelow: fc.constantFrom(0, 64),
});

describe('matchOffers properties', () => {
  it('never over-commits an agent and every assignment passes the independent re-check', () => {
    fc.assert(
      fc.property(world, optionSets, (input, options) => {
        const result = matchOffers(input, options);
        expect(checkResult(input, result)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('gives identical results for the same input and seed', () => {
    fc.assert(
      fc.property(world, optionSets, (input, options) => {
        expect(matchOffers(input, options)).toEqual(matchOffers(structuredClone(input), options));
      }),
      { numRuns: 100 },
    );
  });

  it('counts each offer once, under a named reason, for every unplaced task', () => {
    fc.assert(
      fc.property(world, optionSets, (input, options) => {
        for (const u of matchOffers(input, options).unplaced) {
          const counts = Object.entries(u.reasons);
          for (const [reason] of counts) expect(REJECTION_REASONS).toContain(reason);
          expect(counts.reduce((n, [, c]) => n + c, 0)).toBe(input.offers.length);
        }
      }),
      { numRuns: 100 },
    );
  });
});
