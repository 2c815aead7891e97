import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideTerm, nextBackoffMs } from '../../../src/agent/index.js';

describe('decideTerm (pure)', () => {
  it('refuses older terms, raises on newer ones, accepts the same', () => {
    expect(decideTerm(5, 4)).toBe('refuse');
    expect(decideTerm(5, 5)).toBe('accept');
    expect(decideTerm(5, 6)).toBe('raise');
    expect(decideTerm(0, 0)).toBe('accept');
  });
});

describe('nextBackoffMs (pure)', () => {
  it('stays within [exp/2, exp] with exp doubling up to the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (attempt, r) => {
          const exp = Math.min(5_000, 100 * 2 ** (attempt - 1));
          const d = nextBackoffMs(attempt, { baseMs: 100, capMs: 5_000 }, () => r);
          return d >= Math.floor(exp / 2) && d <= exp;
        },
      ),
    );
  });
});
