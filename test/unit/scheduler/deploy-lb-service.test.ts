/** Presence of tasks in a service when a freed port is given to a new task on the same host. */
import { describe, expect, it } from 'vitest';
import { presenceByTask } from '../../../src/scheduler/deploy-lb-service.js';
import type { GatewayServiceState } from '../../../src/scheduler/load-balancer-gateway.js';
import { makeTask } from './leader-fakes.js';

const stored = (...upstreams: string[]): GatewayServiceState => ({
  stored: true,
  upstreams: new Set(upstreams),
  touches: [],
  open: 0,
});

describe('presenceByTask', () => {
  it('gives a reused upstream to the live task, not to the ended one that had it before', () => {
    const ended = { ...makeTask('web', 1, 'TASK_FAILED'), ports: [11722] };
    const live = { ...makeTask('web', 2, 'TASK_RUNNING'), ports: [11722] };
    const upstream = `${live.host}:11722`;
    // The order the deploy driver lists them in: active tasks, then ended ones.
    const presence = presenceByTask(
      [
        { task: live, upstream },
        { task: ended, upstream },
      ],
      stored(upstream),
    );
    expect(presence.get(live.taskId)).toBe('ALL');
    expect(presence.get(ended.taskId)).toBe('NONE');
  });

  it('maps each upstream to its own task when none is shared', () => {
    const a = { ...makeTask('web', 1), ports: [1] };
    const b = { ...makeTask('web', 2), ports: [2] };
    const presence = presenceByTask(
      [
        { task: a, upstream: `${a.host}:1` },
        { task: b, upstream: `${b.host}:2` },
      ],
      stored(`${a.host}:1`),
    );
    expect([presence.get(a.taskId), presence.get(b.taskId)]).toEqual(['ALL', 'NONE']);
  });
});
