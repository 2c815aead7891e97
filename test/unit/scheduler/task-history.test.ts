import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compactHistory, launchMsOf } from '../../../src/scheduler/task-history.js';

describe('compactHistory', () => {
  it('keeps the newest `max`, removes exactly the oldest rest, and never the task just added', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 30 }),
        (names, added, max) => {
          const { kept, removed } = compactHistory(names, added, max);
          const all = names.includes(added) ? names : [...names, added];
          expect([...removed, ...kept]).toEqual(all);
          expect(kept.length).toBe(Math.min(max, all.length));
          // A newly ended task is the newest entry: never compacted away by its own end.
          if (!names.includes(added)) expect(kept.at(-1)).toBe(added);
        },
      ),
    );
  });

  it('reads the launch time out of a task id', () => {
    expect(launchMsOf('req-d1-1700000000123-3-agent-a')).toBe(1_700_000_000_123);
    expect(launchMsOf('not-a-task-id')).toBe(0);
  });
});
