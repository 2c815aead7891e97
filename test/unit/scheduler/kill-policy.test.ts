import { describe, expect, it } from 'vitest';
import {
  KILL_RESEND_MARGIN_MS,
  KillSender,
  isKillResendDue,
} from '../../../src/scheduler/kill-policy.js';
import { killRecorder } from '../../../src/scheduler/kill-record.js';
import type { KillCause } from '../../../src/state/index.js';
import { FakeHost, makeTask } from './leader-fakes.js';

describe('kill re-send policy', () => {
  it('re-sends only once the agent grace and the report margin have both passed', () => {
    const grace = 5_000;
    const sentAt = 1_000_000;
    expect(isKillResendDue(sentAt, sentAt, grace)).toBe(false);
    expect(isKillResendDue(sentAt, sentAt + grace, grace)).toBe(false);
    expect(isKillResendDue(sentAt, sentAt + grace + KILL_RESEND_MARGIN_MS, grace)).toBe(false);
    expect(isKillResendDue(sentAt, sentAt + grace + KILL_RESEND_MARGIN_MS + 1, grace)).toBe(true);
  });

  it('scales with the kill grace (a longer grace waits longer)', () => {
    const sentAt = 0;
    const at = 10_000;
    expect(isKillResendDue(sentAt, at, 5_000)).toBe(true);
    expect(isKillResendDue(sentAt, at, 30_000)).toBe(false);
  });
});

describe('kill causes on the task record', () => {
  const scaledDown: KillCause = { cleanupType: 'SCALING_DOWN', message: 'scaled down' };
  const paused: KillCause = { cleanupType: 'PAUSING', message: 'request paused' };

  function setUp() {
    const host = new FakeHost();
    const task = makeTask('web', 1);
    host.add(task);
    const kills = new KillSender(host, killRecorder(host));
    return { host, task, kills };
  }

  it('writes the first cause once, when the kill is sent, and keeps it on re-sends', async () => {
    const { host, task, kills } = setUp();
    kills.send(task.taskId, scaledDown, 1_000);
    await host.serialize(async () => undefined);
    expect(host.tasks.get(task.taskId)?.taskCleanup).toEqual({ ...scaledDown, timestamp: 1_000 });
    expect(host.writes).toHaveLength(1);
    // A later decision for the same task (a pause) and a re-send: the cause stays the first.
    kills.send(task.taskId, paused, 2_000);
    kills.resendDue(1_000_000);
    await host.serialize(async () => undefined);
    expect(host.writes).toHaveLength(1);
    expect(host.killsSent.get(task.taskId)?.cause).toEqual(scaledDown);
    const written = host.writes[0]![0]!;
    expect(
      written.op === 'set' && JSON.parse(Buffer.from(written.data).toString()).taskCleanup,
    ).toEqual({ ...scaledDown, timestamp: 1_000 });
  });

  it('a held kill is recorded when released, with the cause it was held for', async () => {
    const { host, task, kills } = setUp();
    kills.hold = () => true;
    kills.send(task.taskId, scaledDown, 1_000);
    kills.send(task.taskId, paused, 1_500);
    await host.serialize(async () => undefined);
    expect(host.writes).toHaveLength(0);
    expect(kills.heldKills().get(task.taskId)).toEqual(scaledDown);
    kills.release(task.taskId, 3_000);
    await host.serialize(async () => undefined);
    expect(host.tasks.get(task.taskId)?.taskCleanup).toEqual({ ...scaledDown, timestamp: 3_000 });
  });

  it('nothing is written for a task that ended before the record was written', async () => {
    const { host, task, kills } = setUp();
    let open!: () => void;
    host.gate = new Promise((r) => (open = r));
    // An earlier serialized write (the task's TASK_KILLED) is in flight: the record waits.
    const ending = host.serialize(async () => {
      await host.write([]);
      host.tasks.delete(task.taskId);
    });
    kills.send(task.taskId, scaledDown, 1_000);
    open();
    await ending;
    await host.serialize(async () => undefined);
    expect(host.writes).toEqual([[]]);
  });
});
