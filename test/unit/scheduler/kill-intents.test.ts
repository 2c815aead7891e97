import { describe, expect, it } from 'vitest';
import type { ZkOp } from '../../../src/coordination/index.js';
import { drainKillIntents } from '../../../src/scheduler/kill-intents.js';
import { KillSender } from '../../../src/scheduler/kill-policy.js';
import { killRecorder } from '../../../src/scheduler/kill-record.js';
import type { KillIntent, Task } from '../../../src/state/index.js';
import { FakeHost, makeTask } from './leader-fakes.js';

function written(op: ZkOp | undefined): Task {
  if (op?.op !== 'set') throw new Error(`expected a set, got ${JSON.stringify(op)}`);
  return JSON.parse(Buffer.from(op.data).toString()) as Task;
}

function setUp(task: Task) {
  const host = new FakeHost().add(task);
  const kills = new KillSender(host, killRecorder(host));
  const intent: KillIntent = {
    taskId: task.taskId,
    requestId: task.requestId,
    message: 'operator',
    at: 1,
  };
  const source = { killIntents: () => Promise.resolve([intent]) };
  return { host, kills, drain: () => drainKillIntents(host, source, kills) };
}

describe('draining kill intents (fake leadership)', () => {
  it('records the user kill as the cause of a task killed for no other cause', async () => {
    const task = makeTask('web', 1);
    const { host, drain } = setUp(task);
    await drain();
    const stored = written(host.writes[0]?.[1]);
    expect(stored.killReason).toBe('operator');
    expect(stored.taskCleanup).toMatchObject({
      cleanupType: 'USER_REQUESTED',
      message: 'operator',
    });
    expect(host.tasks.get(task.taskId)?.taskCleanup?.cleanupType).toBe('USER_REQUESTED');
    expect(host.killsSent.get(task.taskId)?.cause.cleanupType).toBe('USER_REQUESTED');
  });

  it('keeps the cause a task was already killed for: set once, the first wins', async () => {
    const first = {
      cleanupType: 'DEPLOY_STEP_FINISHED' as const,
      message: 'replaced',
      timestamp: 5,
    };
    const task: Task = { ...makeTask('web', 1), taskCleanup: first };
    const { host, drain } = setUp(task);
    await drain();
    const stored = written(host.writes[0]?.[1]);
    expect(stored.killReason).toBe('operator');
    expect(stored.taskCleanup).toEqual(first);
    expect(host.tasks.get(task.taskId)?.taskCleanup).toEqual(first);
    // The Kill goes out for the recorded cause, and nothing more is recorded.
    expect(host.killsSent.get(task.taskId)?.cause).toEqual({
      cleanupType: 'DEPLOY_STEP_FINISHED',
      message: 'replaced',
    });
    await host.serialize(async () => undefined);
    expect(host.writes).toHaveLength(1);
  });
});
