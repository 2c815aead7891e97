/**
 * Invariant 6, "executor cleanup never deletes the sandbox of a task the cluster reports
 * active": no task active in ZooKeeper for the whole of a cleanup run (from its scan to its
 * end, as its summary times them) may be named in the run's deletions or kills, and no task
 * active for the whole of the command (start to exit) may have lost its sandbox — whoever
 * removed it: the agent never deletes sandboxes. A task that became or stopped being active
 * meanwhile is left out: the run may rightly have seen it either way.
 */
import type { CleanupResult } from '../workload/cleanup-client.js';
import type { Op } from '../workload/history.js';
import type { TaskTimeline } from './active-tasks.js';
import { opRef } from './acked-writes.js';
import type { Violation } from './types.js';

function activeThroughout(t: TaskTimeline | undefined, from: number, to: number): boolean {
  return !!t && t.createdAt <= from && (t.endedAt === undefined || t.endedAt >= to);
}

/** The cleanup checks; `runs` counts the runs that did something to check. */
export function checkCleanupSafety(
  ops: readonly Op[],
  timelines: ReadonlyMap<string, TaskTimeline>,
): { violations: Violation[]; runs: number; deleted: number } {
  const violations: Violation[] = [];
  let runs = 0;
  let deleted = 0;
  for (const op of ops) {
    if (op.kind !== 'cleanup' || !op.result) continue;
    const r = op.result as CleanupResult;
    runs++;
    deleted += r.deleted.length;
    const after = new Set(r.after);
    const vanished = r.before.filter((id) => !after.has(id));
    const runFrom = r.runStartMs ?? op.invokeMs;
    const runTo = r.runEndMs ?? op.completeMs;
    const judged = [
      ...r.killed.map((id) => ({ id, what: 'killed the processes of', from: runFrom, to: runTo })),
      ...r.deleted.map((id) => ({ id, what: 'deleted the sandbox of', from: runFrom, to: runTo })),
      ...vanished.map((id) => ({
        id,
        what: 'ran while the sandbox vanished of',
        from: op.invokeMs,
        to: op.completeMs,
      })),
    ];
    const flagged = new Set<string>();
    for (const { id: taskId, what, from, to } of judged) {
      if (flagged.has(taskId) || !activeThroughout(timelines.get(taskId), from, to)) continue;
      flagged.add(taskId);
      violations.push({
        invariant: '6',
        check: 'cleanup-touched-active-task',
        at: op.invokeMs,
        message: `executor-cleanup on ${r.agentId} ${what} ${taskId}, active throughout the run`,
        evidence: { op: opRef(op), safeMode: r.safeMode },
      });
    }
  }
  return { violations, runs, deleted };
}
