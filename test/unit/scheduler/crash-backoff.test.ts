import { describe, expect, it } from 'vitest';
import { CrashBackoff } from '../../../src/scheduler/crash-backoff.js';

describe('crash back-off and cooldown (pure)', () => {
  const o = { baseMs: 1_000, maxMs: 8_000, windowMs: 60_000, cooldownAfter: 3, cooldownMs: 30_000 };

  it('doubles the relaunch delay of a crashing instance up to the cap; a run resets it', () => {
    const b = new CrashBackoff(o);
    const delays = [0, 1, 2, 3, 4].map((i) => {
      b.record('web', 1, true, 100_000 * (i + 1));
      return (b.notBefore.get('web/1') ?? 0) - 100_000 * (i + 1);
    });
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
    b.recovered('web', 1);
    b.record('web', 1, true, 1_000_000);
    expect(b.notBefore.get('web/1')).toBe(1_001_000);
  });

  it('kills and losses are not crashes; enough crashes in the window start a cooldown', () => {
    const b = new CrashBackoff(o);
    expect(b.record('web', 1, false, 0)).toBe(false);
    expect(b.notBefore.has('web/1')).toBe(false);
    expect(b.record('web', 1, true, 1_000)).toBe(false);
    expect(b.record('web', 2, true, 2_000)).toBe(false);
    expect(b.record('web', 3, true, 3_000)).toBe(true);
    expect(b.cooldownEnds(3_000)).toBe(33_000);
    // Crashes outside the window do not count.
    const c = new CrashBackoff(o);
    c.record('x', 1, true, 0);
    c.record('x', 1, true, 70_000);
    expect(c.record('x', 1, true, 140_000)).toBe(false);
  });
});
