/** mapBounded: results in the items' order, never more than `limit` calls in flight. */
import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../../src/runtime/index.js';

describe('mapBounded', () => {
  it('keeps the order and the limit, whatever order the calls end in', async () => {
    let inFlight = 0;
    let most = 0;
    const items = Array.from({ length: 50 }, (_, i) => i);
    const out = await mapBounded(items, 4, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      // Later items end sooner: completion order is the reverse of the items'.
      await new Promise((r) => setImmediate(r));
      for (let k = 0; k < (50 - n) % 7; k++) await Promise.resolve();
      inFlight--;
      return n * 2;
    });
    expect(out).toEqual(items.map((n) => n * 2));
    expect(most).toBe(4);
  });

  it('rejects with a call’s error after the started calls end; empty input is empty', async () => {
    const ended: number[] = [];
    const run = mapBounded([1, 2, 3], 3, async (n) => {
      await new Promise((r) => setImmediate(r));
      ended.push(n);
      if (n === 2) throw new Error('two');
      return n;
    });
    await expect(run).rejects.toThrow('two');
    expect(ended.sort()).toEqual([1, 2, 3]);
    expect(await mapBounded([], 8, async () => 1)).toEqual([]);
  });
});
