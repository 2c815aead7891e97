import { describe, expect, it } from 'vitest';
import type { Task } from '../../../src/state/index.js';
import { stepBoundaries } from '../../../bench/deploy/step-times.js';

function task(deployId: string, instanceNo: number, startedAt: number, healthyAt?: number): Task {
  return {
    taskId: `web-${deployId}-${startedAt}-${instanceNo}-a`,
    requestId: 'web',
    deployId,
    instanceNo,
    agentId: 'a',
    host: '127.0.0.1',
    rack: 'r',
    startedAt,
    ports: [1],
    resources: { cpus: 0.1, memoryMb: 32, diskMb: 0, numPorts: 1 },
    term: 1,
    state: 'TASK_RUNNING',
    updates: [{ state: 'TASK_LAUNCHED', at: startedAt }],
    ...(healthyAt === undefined ? {} : { health: { status: 'HEALTHY', since: healthyAt } }),
  };
}

describe('stepBoundaries', () => {
  it('measures from the last healthy task of a step to the first launch of the next', () => {
    const tasks = [
      task('v2', 1, 1_000, 2_000),
      task('v2', 2, 1_000, 2_500),
      task('v2', 3, 2_900, 4_000),
      task('v2', 4, 3_000, 3_500),
      task('v1', 1, 0, 100), // the old deploy's tasks are not counted
    ];
    const b = stepBoundaries(tasks, 'v2', 4, 2);
    expect(b).toEqual([
      {
        step: 1,
        lastHealthyAt: 2_500,
        lastHealthyTask: 'web-v2-1000-2-a',
        nextLaunchAt: 2_900,
        overheadMs: 400,
      },
    ]);
  });

  it('counts the last task of a number launched twice (a replaced failure)', () => {
    const tasks = [
      task('v2', 1, 1_000, 1_200),
      task('v2', 1, 5_000, 6_000),
      task('v2', 2, 6_300, 7_000),
    ];
    expect(stepBoundaries(tasks, 'v2', 2, 1)[0]?.overheadMs).toBe(300);
  });

  it('refuses to guess when a task of a step is not healthy or missing', () => {
    expect(() => stepBoundaries([task('v2', 1, 0), task('v2', 2, 5)], 'v2', 2, 1)).toThrow(
      /web-v2-0-1-a \(step 1\) is without health/,
    );
    expect(() => stepBoundaries([task('v2', 1, 0, 1)], 'v2', 2, 1)).toThrow(
      /no task for instance 2/,
    );
  });
});
