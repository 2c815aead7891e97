import type { ZkOp } from '../coordination/index.js';
import { type IntentStore, removeIntentOp, setActiveTaskOp } from '../state/index.js';
import type { KillSender } from './kill-policy.js';
import type { TaskLeaderContext } from './task-leader-context.js';

/**
 * Drains the kill intents any replica wrote (`/intents/kill-task/<taskId>`): for each, one
 * fenced multi persists the kill's reason on the active task and removes the intent; then
 * the Kill goes to the agent. The reason is persisted first so that a leader that fails
 * between the two leaves the kill to its successor, which re-sends it (see
 * agent-reconcile-plan.ts), instead of forgetting it.
 *
 * Reads: `/intents/kill-task/*`, the leader's active tasks. Writes: the intent (removed),
 * `/tasks/active/<rid>/<taskId>` (killReason).
 */
export async function drainKillIntents(
  leader: TaskLeaderContext,
  intents: IntentStore,
  kills: KillSender,
): Promise<void> {
  for (const intent of await intents.killIntents()) {
    const task = leader.tasks.get(intent.taskId);
    const ops: ZkOp[] = [removeIntentOp('kill-task', intent.taskId)];
    const reason = intent.message ?? 'killed through the API';
    if (task) ops.push(setActiveTaskOp({ ...task, killReason: reason }));
    await leader.serialize(async () => {
      await leader.write(ops);
      const current = leader.tasks.get(intent.taskId);
      if (current) leader.tasks.set(current.taskId, { ...current, killReason: reason });
    });
    if (task) kills.send(task.taskId, reason);
  }
}
