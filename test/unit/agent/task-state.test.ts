import { describe, expect, it } from 'vitest';
import {
  type SandboxFiles,
  type TaskJson,
  deriveTaskTransition,
  finalStateOf,
  observeSandbox,
} from '../../../src/agent/index.js';

const task = { taskId: 't', launchedAt: 1_000 } as TaskJson;
const executor = {
  executorPid: 10,
  executorStartTime: 5,
  taskPid: null,
  pgid: null,
  taskStartTime: null,
  startedAt: 1,
};
const running = { ...executor, taskPid: 11, pgid: 11, taskStartTime: 6 };
const none: SandboxFiles = {
  task,
  executor: undefined,
  exit: undefined,
  kill: undefined,
  reported: undefined,
};

function derive(
  files: Partial<SandboxFiles>,
  alive = true,
  now = 2_000,
  spawn: 'running' | 'exited' | 'unknown' = 'unknown',
) {
  return deriveTaskTransition({
    files: { ...none, ...files },
    executorAlive: alive,
    spawn,
    now,
    startGraceMs: 30_000,
  });
}

describe('deriveTaskTransition (pure)', () => {
  it('reports STARTING once the executor is up, RUNNING once the task started', () => {
    expect(derive({})).toEqual({ observed: 'TASK_LAUNCHED', toReport: [] });
    expect(derive({ executor })).toEqual({
      observed: 'TASK_STARTING',
      toReport: ['TASK_STARTING'],
    });
    expect(
      derive({ executor: running, reported: { state: 'TASK_STARTING', updateId: 'u' } }),
    ).toEqual({
      observed: 'TASK_RUNNING',
      toReport: ['TASK_RUNNING'],
    });
  });

  it('fills in states a fast task went through between two polls, in order', () => {
    const exit = { exitCode: 0, signal: null, finishedAt: 3, state: 'TASK_FINISHED' as const };
    expect(derive({ executor: running, exit }, false).toReport).toEqual([
      'TASK_STARTING',
      'TASK_RUNNING',
      'TASK_FINISHED',
    ]);
  });

  it('never reports again after a final state, and not the same state twice', () => {
    const exit = { exitCode: 3, signal: null, finishedAt: 3, state: 'TASK_FAILED' as const };
    expect(
      derive({ executor: running, exit, reported: { state: 'TASK_FAILED', updateId: 'u' } }, false)
        .toReport,
    ).toEqual([]);
    expect(
      derive({ executor: running, reported: { state: 'TASK_RUNNING', updateId: 'u' } }).toReport,
    ).toEqual([]);
  });

  it('an executor that died without exit.json means TASK_LOST (liveness is checked before reading)', () => {
    const t = derive(
      { executor: running, reported: { state: 'TASK_RUNNING', updateId: 'u' } },
      false,
    );
    expect(t.observed).toBe('TASK_LOST');
    expect(t.toReport).toEqual(['TASK_LOST']);
    expect(t.message).toMatch(/vanished/);
  });

  it('an executor spawned by this agent that exited without executor.json is lost at once', () => {
    expect(derive({}, false, 1_001, 'running').observed).toBe('TASK_LAUNCHED');
    expect(derive({}, false, 1_001, 'exited')).toMatchObject({
      observed: 'TASK_LOST',
      toReport: ['TASK_LOST'],
    });
  });

  it('after a restart, an executor that never wrote executor.json is lost only after the start grace', () => {
    expect(derive({}, false, 1_000 + 29_000).observed).toBe('TASK_LAUNCHED');
    expect(derive({}, false, 1_000 + 31_000)).toMatchObject({
      observed: 'TASK_LOST',
      toReport: ['TASK_LOST'],
    });
  });
});

describe('finalStateOf (pure)', () => {
  it('kill wins; otherwise exit 0 finishes and anything else fails', () => {
    expect(finalStateOf({ exitCode: 0, signal: null, killRequested: false })).toBe('TASK_FINISHED');
    expect(finalStateOf({ exitCode: 3, signal: null, killRequested: false })).toBe('TASK_FAILED');
    expect(finalStateOf({ exitCode: null, signal: 'SIGSEGV', killRequested: false })).toBe(
      'TASK_FAILED',
    );
    expect(finalStateOf({ exitCode: 0, signal: null, killRequested: true })).toBe('TASK_KILLED');
    expect(finalStateOf({ exitCode: null, signal: 'SIGKILL', killRequested: true })).toBe(
      'TASK_KILLED',
    );
  });
});

describe('observeSandbox: liveness checked before the files it judges', () => {
  it('an executor.json written between the liveness check and the read is checked, not LOST', () => {
    // The executor writes executor.json just after the first look: the old order judged it
    // by the liveness of "no executor" (false) and reported TASK_LOST while the task ran.
    const reads: SandboxFiles[] = [none, { ...none, executor }, { ...none, executor }];
    const checked: number[] = [];
    const seen = observeSandbox(
      () => reads.shift() ?? { ...none, executor },
      (e) => (checked.push(e.executorPid), true),
    );
    expect(checked).toEqual([10]);
    expect(seen.executorAlive).toBe(true);
    expect(derive({ executor: seen.files.executor }, seen.executorAlive).observed).toBe(
      'TASK_STARTING',
    );
  });

  it('a dead executor without exit.json is still judged dead; a missing one needs no check', () => {
    const dead = observeSandbox(
      () => ({ ...none, executor }),
      () => false,
    );
    expect(dead.executorAlive).toBe(false);
    const missing = observeSandbox(
      () => none,
      () => {
        throw new Error('no executor to check');
      },
    );
    expect(missing).toEqual({ files: none, executorAlive: false });
  });
});
