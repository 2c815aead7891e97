/**
 * Writes a kill's cause onto the task's active record (`taskCleanup`), so the task's JSON and
 * its history say why it ended. Batched fenced sets, in the leader's serialized task-write
 * order: a status update of the same task is written before or after it, never
 * beside it, and one that ended the task first leaves nothing to record (the history
 * znode is not rewritten).
 */
import {
  type KillCause,
  type Task,
  isTerminal,
  setActiveTaskOp,
  withCleanup,
} from '../state/index.js';
import { detach } from '../runtime/index.js';
import type { KillRecorder } from './kill-policy.js';
import type { TaskLeaderContext } from './task-leader-context.js';

/** What recording needs of the leadership (a fake in unit tests). */
export interface KillRecordHost extends Pick<
  TaskLeaderContext,
  'serialize' | 'write' | 'logger' | 'revoked'
> {
  readonly tasks: Map<string, Task>;
}

/** Causes written per multi at most (as the status writer's batches). */
const MAX_PER_WRITE = 100;

/**
 * The recorder a leadership's kill sender calls when a kill is first sent. Causes recorded
 * meanwhile go out together: one serialized, fenced multi for every cause pending when its
 * turn comes (a deploy step or a scale-down sends its kills in one cycle), not one per kill.
 */
export function killRecorder(leader: KillRecordHost): KillRecorder {
  const pending = new Map<string, { cause: KillCause; at: number }>();
  let queued = false;
  const writePending = async (): Promise<void> => {
    queued = false;
    const batch = [...pending].slice(0, MAX_PER_WRITE);
    for (const [taskId] of batch) pending.delete(taskId);
    if (pending.size > 0) queue();
    const next: Task[] = [];
    for (const [taskId, { cause, at }] of batch) {
      const current = leader.tasks.get(taskId);
      if (!current || isTerminal(current.state)) continue;
      const marked = withCleanup(current, cause, at);
      if (marked !== current) next.push(marked); // else recorded already: the first cause wins
    }
    if (next.length === 0 || leader.revoked) return;
    try {
      await leader.write(next.map((t) => setActiveTaskOp(t)));
    } catch (err) {
      // Only the record of why is lost (the kills themselves went): logged, not retried.
      leader.logger.warn({ err, tasks: next.map((t) => t.taskId) }, 'kill causes not recorded');
      return;
    }
    for (const t of next) {
      const latest = leader.tasks.get(t.taskId);
      if (latest) leader.tasks.set(t.taskId, { ...latest, taskCleanup: t.taskCleanup });
    }
  };
  const queue = (): void => {
    if (queued) return;
    queued = true;
    detach(leader.serialize(writePending), leader.logger, 'kill cause records');
  };
  return (taskId: string, cause: KillCause, at: number): void => {
    if (!pending.has(taskId)) pending.set(taskId, { cause, at });
    queue();
  };
}
