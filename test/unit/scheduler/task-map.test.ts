/** The leader's task map: changed-request and changed-agent notes and the per-request index stay true to it. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TaskMap } from '../../../src/scheduler/task-map.js';
import type { Task } from '../../../src/state/index.js';

const task = (taskId: string, requestId: string, agentId = 'agent-1'): Task =>
  ({ taskId, requestId, agentId }) as Task;

describe('TaskMap', () => {
  it('notes the requests whose tasks were set or deleted, once per take', () => {
    const map = new TaskMap();
    map.set('t1', task('t1', 'a'));
    map.set('t2', task('t2', 'b'));
    expect(map.takeChangedRequests()).toEqual(new Set(['a', 'b']));
    map.delete('t1');
    expect(map.takeChangedRequests()).toEqual(new Set(['a']));
    expect(map.takeChangedRequests()).toEqual(new Set());
  });

  it('notes the agents whose active tasks changed, the one a task left included', () => {
    const map = new TaskMap();
    map.set('t1', task('t1', 'a', 'x'));
    expect(map.takeChangedAgents()).toEqual(new Set(['x']));
    map.set('t1', task('t1', 'a', 'y'));
    expect(map.takeChangedAgents()).toEqual(new Set(['x', 'y']));
    map.delete('t1');
    expect(map.takeChangedAgents()).toEqual(new Set(['y']));
    expect(map.takeChangedAgents()).toEqual(new Set());
  });

  it('indexes tasks by request and agent through any sequence of sets, deletes and clears', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('set' as const),
        id: fc.integer({ min: 0, max: 9 }),
        request: fc.constantFrom('a', 'b', 'c'),
        agent: fc.constantFrom('x', 'y'),
      }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('clear' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const map = new TaskMap();
        for (const o of ops) {
          if (o.kind === 'set') map.set(`t${o.id}`, task(`t${o.id}`, o.request, o.agent));
          else if (o.kind === 'delete') map.delete(`t${o.id}`);
          else map.clear();
        }
        const ids = (ts: readonly Task[]) => ts.map((t) => t.taskId).sort();
        for (const rid of ['a', 'b', 'c']) {
          const expected = [...map.values()].filter((t) => t.requestId === rid);
          expect(ids(map.ofRequest(rid))).toEqual(ids(expected));
        }
        for (const aid of ['x', 'y']) {
          const expected = [...map.values()].filter((t) => t.agentId === aid);
          expect(ids(map.ofAgent(aid))).toEqual(ids(expected));
        }
      }),
    );
  });
});
