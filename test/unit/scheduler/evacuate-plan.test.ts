import { describe, expect, it } from 'vitest';
import { type EvacuationTask, planEvacuation } from '../../../src/scheduler/evacuate-plan.js';

const task = (id: string, o: Partial<EvacuationTask> = {}): EvacuationTask => ({
  taskId: id,
  requestId: 'web',
  leaving: false,
  killing: false,
  serving: true,
  ...o,
});

describe('decommission evacuation', () => {
  it('moves one task per request at a time, while the others serve', () => {
    const all = [task('a', { leaving: true }), task('b', { leaving: true }), task('c')];
    expect(planEvacuation(all)).toEqual(['a']);
    // One is being killed: the next waits for its end and its replacement serving.
    expect(
      planEvacuation([task('a', { leaving: true, killing: true }), task('b', { leaving: true })]),
    ).toEqual([]);
    expect(planEvacuation([task('b', { leaving: true }), task('r', { serving: false })])).toEqual(
      [],
    );
    expect(planEvacuation([task('b', { leaving: true }), task('r')])).toEqual(['b']);
  });

  it('requests move independently; a leaving task that does not serve does not block', () => {
    const out = planEvacuation([
      task('a', { leaving: true, serving: false }),
      task('x', { requestId: 'api', leaving: true }),
      task('y', { requestId: 'api', leaving: true }),
    ]);
    expect(out).toEqual(['a', 'x']);
    expect(planEvacuation([task('c')])).toEqual([]);
  });
});
