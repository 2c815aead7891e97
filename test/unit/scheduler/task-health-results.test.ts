import { describe, expect, it } from 'vitest';
import {
  applyStatusTransition,
  toHealthcheckResult,
} from '../../../src/scheduler/task-health-results.js';
import type { Task } from '../../../src/state/index.js';

const task: Task = {
  taskId: 't',
  requestId: 'r',
  deployId: 'd',
  instanceNo: 1,
  agentId: 'a',
  host: 'h',
  rack: 'r',
  startedAt: 0,
  ports: [31000],
  resources: { cpus: 1, memoryMb: 1, diskMb: 0, numPorts: 1 },
  term: 1,
  state: 'TASK_RUNNING',
  updates: [{ state: 'TASK_RUNNING', at: 1 }],
};
const msg = {
  health: 'UNHEALTHY',
  hasStatusCode: true,
  statusCode: 503,
  durationMs: 4,
  errorMessage: '',
  responseBody: 'down',
  startup: false,
  atMs: 50,
};

describe('health results on the leader (pure)', () => {
  it('maps the proto result, keeping absent fields absent', () => {
    expect(toHealthcheckResult(msg)).toEqual({
      statusCode: 503,
      durationMillis: 4,
      timestamp: 50,
      responseBody: 'down',
      startup: false,
      health: 'UNHEALTHY',
    });
    expect(
      toHealthcheckResult({ ...msg, hasStatusCode: false, responseBody: '' }),
    ).not.toHaveProperty('statusCode');
    expect(toHealthcheckResult(null)).toBeUndefined();
    expect(toHealthcheckResult({ ...msg, health: 'BOGUS' })).toBeUndefined();
  });

  it('records a result without changing the state; nothing after the end', () => {
    const health = toHealthcheckResult(msg)!;
    const update = { state: 'TASK_RUNNING' as const, at: 50 };
    const next = applyStatusTransition(task, update, health)!;
    expect(next.state).toBe('TASK_RUNNING');
    expect(next.updates).toEqual(task.updates);
    expect(next.health).toEqual({ status: 'UNHEALTHY', since: 50 });
    expect(next.healthcheckResults).toHaveLength(1);
    // A repeated state without health is nothing to write; an ended task takes no result.
    expect(applyStatusTransition(task, update, undefined)).toBeNull();
    const ended = { ...task, state: 'TASK_FAILED' as const };
    expect(applyStatusTransition(ended, update, health)).toBeNull();
    expect(applyStatusTransition(task, { state: 'TASK_FAILED', at: 60 }, undefined)?.state).toBe(
      'TASK_FAILED',
    );
  });
});
