import { describe, expect, it } from 'vitest';
import { median, percentile } from '../../../bench/stats.js';

describe('percentile', () => {
  it('is the nearest rank, whatever the order of the values', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 99)).toBe(5);
    expect(percentile([5, 1, 3, 2, 4], 0)).toBe(1);
    expect(percentile([5, 1, 3, 2, 4], 100)).toBe(5);
    expect(percentile([40, 10, 30, 20], 25)).toBe(10);
    expect(percentile([40, 10, 30, 20], 26)).toBe(20);
  });

  it('is NaN for no values and leaves its input alone', () => {
    expect(percentile([], 99)).toBeNaN();
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('median', () => {
  it('is the nearest-rank 50th percentile', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2);
    expect(median([])).toBeNaN();
  });
});
