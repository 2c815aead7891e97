/**
 * Writes a kill's cause onto the task's active record (`taskCleanup`), so the task's JSON and
 * its history say why it ended. One fenced set per kill, in the leader's serialized
 * task-write order: a status update of the same task is written before or after it, never
 * beside it, and one that ended the task first leaves nothing to record (the history
 * znode is not rewritten).
 */
import {
  type KillCause,
  type Task,
  type TaskCleanup,
  isTerminal,
  setActiveTaskOp,
} from '../state/index.js';
import type { KillRecorder } from './kill-policy.js';
import type { TaskLeaderContext } from './task-leader-context.js';

/** What recording needs of the leadership (a fake in unit tests). */
export interface KillRecordHost extends Pick<
  TaskLeaderContext,
  'serialize' | 'write' | 'logger' | 'revoked'
> {
  readonly tasks: Map<string, Task>;
}

/** The recorder a leadership's kill sender calls when a kill is first sent. */
export function killRecorder(leader: KillRecordHost): KillRecorder {
  return (taskId: string, cause: KillCause, at: number): void => {
    const cleanup: TaskCleanup = { ...cause, timestamp: at };
    void leader
      .serialize(async () => {
        const current = leader.tasks.get(taskId);
        if (!current || isTerminal(current.state) || current.taskCleanup || leader.revoked) return;
        const next = { ...current, taskCleanup: cleanup };
        await leader.write([setActiveTaskOp(next)]);
        const latest = leader.tasks.get(taskId);
        if (latest) leader.tasks.set(taskId, { ...latest, taskCleanup: cleanup });
      })
      .catch((err: unknown) => {
        // Only the record of why is lost (the kill itself went): logged, not retried.
        leader.logger.warn({ err, taskId, cause }, 'kill cause not recorded');
      });
  };
}
