import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FollowTask, planLbFollow } from '../../../src/scheduler/lb-follow-plan.js';

const task = (over: Partial<FollowTask> & { taskId: string }): FollowTask => ({
  upstream: `127.0.0.1:${1000 + Number(over.taskId.replace(/\D/g, '') || 0)}`,
  state: 'TASK_RUNNING',
  health: 'HEALTHY',
  ofTarget: true,
  held: false,
  killing: false,
  lb: 'NONE',
  ...over,
});

const arbTask = (i: number) =>
  fc.record({
    taskId: fc.constant(`t${i}`),
    upstream: fc.option(fc.constant(`127.0.0.1:${1000 + i}`), { nil: undefined }),
    state: fc.constantFrom('TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED', 'TASK_LOST' as const),
    health: fc.constantFrom(undefined, 'STARTING', 'HEALTHY', 'UNHEALTHY' as const),
    ofTarget: fc.boolean(),
    held: fc.boolean(),
    killing: fc.boolean(),
    lb: fc.constantFrom('NONE', 'PARTIAL', 'ALL' as const),
  });

describe('load-balancer follow rule (pure)', () => {
  it('adds a running HEALTHY task of the target; a held kill goes only once out everywhere', () => {
    const plan = planLbFollow({
      tasks: [
        task({ taskId: 't1' }),
        task({ taskId: 't2', health: 'STARTING' }),
        task({ taskId: 't3', held: true, lb: 'ALL' }),
        task({ taskId: 't4', held: true, lb: 'PARTIAL' }),
        task({ taskId: 't5', held: true, lb: 'NONE' }),
      ],
      storedUpstreams: new Set(['127.0.0.1:1003', '127.0.0.1:1009']),
      busy: false,
      follow: true,
    });
    expect(plan.add).toEqual(['127.0.0.1:1001']);
    // t3 leaves first; 1009 belongs to no live task (its agent was lost): out at once.
    expect(plan.remove.sort()).toEqual(['127.0.0.1:1003', '127.0.0.1:1009']);
    expect(plan.release).toEqual(['t5']);
  });

  it('an UNHEALTHY running task is retired (its kill is then held); nothing is sent while busy', () => {
    const plan = planLbFollow({
      tasks: [task({ taskId: 't1', health: 'UNHEALTHY', lb: 'ALL' }), task({ taskId: 't2' })],
      storedUpstreams: new Set(['127.0.0.1:1001']),
      busy: true,
      follow: true,
    });
    expect(plan.retire).toEqual(['t1']);
    expect(plan).toMatchObject({ add: [], remove: [] });
  });

  it('property: never releases a kill an lb-agent may route to; never adds what is not ready', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.nat(30), { maxLength: 12 })
          .chain((ids) =>
            fc.tuple(fc.tuple(...[...new Set(ids)].map(arbTask)), fc.boolean(), fc.boolean()),
          ),
        ([tasks, busy, follow]) => {
          const stored = new Set(
            tasks.filter((t) => t.lb === 'ALL' && t.upstream).map((t) => t.upstream as string),
          );
          const plan = planLbFollow({ tasks, storedUpstreams: stored, busy, follow });
          for (const id of plan.release) {
            const t = tasks.find((x) => x.taskId === id);
            expect(t?.held && t.lb === 'NONE').toBe(true);
          }
          for (const u of plan.add) {
            const t = tasks.find((x) => x.upstream === u);
            expect(t).toMatchObject({ state: 'TASK_RUNNING', health: 'HEALTHY', ofTarget: true });
            expect(t?.held || t?.killing).toBe(false);
          }
          if (busy) expect(plan.add.length + plan.remove.length).toBe(0);
          if (!follow) expect(plan.add.length + plan.retire.length).toBe(0);
        },
      ),
    );
  });
});
