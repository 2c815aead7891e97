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

describe('matching order', () => {
  const ordering = fc.array(
    fc.record({
      priority: fc.oneof(
        fc.integer({ min: -3, max: 3 }),
        fc.double({ min: -3, max: 3, noNaN: true }),
      ),
      // Small, mid (keys beyond 16 bits: two radix passes) and huge (beyond 32 bits) ranges.
      pendingSince: fc.oneof(
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 2 ** 45 }),
      ),
    }),
    { maxLength: 60 },
  );

  it('places by priority (high first), then pending-since (old first), then input order', () => {
    fc.assert(
      fc.property(ordering, (specs) => {
        const tasks = specs.map((s, i) => ({
          key: { requestId: 'r', deployId: 'd', instanceNo: i },
          resources: { cpus: 0, memoryMb: 0, diskMb: 0, numPorts: 0 },
          ...s,
        }));
        const offers = [{ agentId: 'a', host: 'h', rack: 'k', cpus: 1, memoryMb: 1, diskMb: 1 }];
        const placed = matchOffers({ offers, tasks }).assignments.map((a) => a.taskKey.instanceNo);
        const expected = specs
          .map((s, i) => ({ ...s, i }))
          .sort((a, b) => b.priority - a.priority || a.pendingSince - b.pendingSince || a.i - b.i)
          .map((s) => s.i);
        expect(placed).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
