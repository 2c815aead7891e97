import { type TreeCache, type ZkOp, decodeJson } from '../coordination/index.js';
import {
  type KillCause,
  type KillIntent,
  killIntentSchema,
  removeIntentOp,
  setActiveTaskOp,
  statePaths,
  treesCaughtUp,
} from '../state/index.js';
import type { KillSender } from './kill-policy.js';
import type { TaskLeaderContext } from './task-leader-context.js';

/** Where the pending kill intents come from (the IntentStore, or a watched cache of them). */
export interface KillIntentSource {
  killIntents(): Promise<KillIntent[]>;
}

/**
 * Kill intents from the leadership's watched cache of `/intents/kill-task` (no read per
 * cycle), once it has applied what it was notified of, the leader's own removals included
 * (rejects with CacheLagError after `maxWaitMs`).
 * An intent that does not decode is left for the IntentStore's reader to report.
 */
export function cachedKillIntents(cache: TreeCache, maxWaitMs = 5_000): KillIntentSource {
  return {
    async killIntents() {
      await treesCaughtUp([cache], maxWaitMs);
      const dir = statePaths.intentsDir('kill-task');
      const out: KillIntent[] = [];
      for (const [name, node] of cache.children(dir)) {
        try {
          out.push(decodeJson(node.data, `${dir}/${name}`, killIntentSchema));
        } catch {
          // Undecodable: skipped, as the ZooKeeper reader skips it.
        }
      }
      return out;
    },
  };
}

/**
 * Drains the kill intents any replica wrote (`/intents/kill-task/<taskId>`): for each, one
 * fenced multi persists the kill's reason on the active task and removes the intent; then
 * the Kill goes to the agent. The reason is persisted first so that a leader that fails
 * between the two leaves the kill to its successor, which re-sends it (see
 * agent-reconcile-plan.ts), instead of forgetting it.
 *
 * Reads: `/intents/kill-task/*`, the leader's active tasks. Writes: the intent (removed),
 * `/tasks/active/<rid>/<taskId>` (killReason, taskCleanup).
 */
export async function drainKillIntents(
  leader: TaskLeaderContext,
  intents: KillIntentSource,
  kills: KillSender,
): Promise<void> {
  for (const intent of await intents.killIntents()) {
    const task = leader.tasks.get(intent.taskId);
    const ops: ZkOp[] = [removeIntentOp('kill-task', intent.taskId)];
    const reason = intent.message ?? 'killed through the API';
    const cause: KillCause = { cleanupType: 'USER_REQUESTED', message: reason };
    // The kill's cause goes with its reason (the recorder then has nothing left to write).
    const marks = { killReason: reason, taskCleanup: { ...cause, timestamp: Date.now() } };
    if (task) ops.push(setActiveTaskOp({ ...task, ...marks }));
    await leader.serialize(async () => {
      await leader.write(ops);
      const current = leader.tasks.get(intent.taskId);
      if (current) leader.tasks.set(current.taskId, { ...current, ...marks });
    });
    if (task) kills.send(task.taskId, cause);
  }
}
