import { describe, expect, it } from 'vitest';
import { type CycleScopeInput, cycleScope } from '../../../src/scheduler/cycle-scope.js';

const base: CycleScopeInput = {
  desiredChanged: new Set(),
  tasksChanged: new Set(),
  carried: new Set(),
  notBefore: new Map(),
  lastCycleAt: 9_000,
  lastFullPlanAt: 5_000,
  fullPlanEveryMs: 30_000,
  now: 10_000,
};

describe('cycleScope (pure)', () => {
  it('plans nothing when nothing changed and nothing is due', () => {
    expect(cycleScope(base)).toEqual(new Set());
  });

  it('plans what changed: desired state, tasks, launches left over', () => {
    const scope = cycleScope({
      ...base,
      desiredChanged: new Set(['a']),
      tasksChanged: new Set(['b']),
      carried: new Set(['c']),
    });
    expect(scope).toEqual(new Set(['a', 'b', 'c']));
  });

  it('plans a request whose back-off ended since the last cycle, once', () => {
    const notBefore = new Map([
      ['ended-now/1', 9_500],
      ['ended-before/2', 8_000],
      ['still-waiting/1', 12_000],
    ]);
    expect(cycleScope({ ...base, notBefore })).toEqual(new Set(['ended-now']));
  });

  it('plans everything after a rebuild and periodically', () => {
    expect(cycleScope({ ...base, desiredChanged: 'all' })).toBe('all');
    expect(cycleScope({ ...base, lastFullPlanAt: 10_000 - 30_000 })).toBe('all');
  });
});
