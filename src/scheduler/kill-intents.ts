import { type TreeCache, type ZkOp, decodeJson } from '../coordination/index.js';
import {
  type KillCause,
  type KillIntent,
  killIntentSchema,
  recordedCause,
  removeIntentOp,
  setActiveTaskOp,
  statePaths,
  treesCaughtUp,
  withCleanup,
} from '../state/index.js';
import type { KillSender } from './kill-policy.js';
import type { KillRecordHost } from './kill-record.js';

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

/** What draining needs of the leadership (a fake in unit tests). */
export type KillDrainHost = Pick<KillRecordHost, 'serialize' | 'write' | 'tasks'>;

/**
 * Drains the kill intents any replica wrote (`/intents/kill-task/<taskId>`): for each, one
 * fenced multi persists the kill's reason on the active task and removes the intent; then
 * the Kill goes to the agent. The reason is persisted first so that a leader that fails
 * between the two leaves the kill to its successor, which re-sends it (see
 * agent-reconcile-plan.ts), instead of forgetting it. A task already killed for another
 * cause keeps that cause (`taskCleanup` is set once, as the kill recorder sets it) and is
 * killed with it.
 *
 * Reads: `/intents/kill-task/*`, the leader's active tasks. Writes: the intent (removed),
 * `/tasks/active/<rid>/<taskId>` (killReason, taskCleanup when none yet).
 */
export async function drainKillIntents(
  leader: KillDrainHost,
  intents: KillIntentSource,
  kills: KillSender,
): Promise<void> {
  for (const intent of await intents.killIntents()) {
    const reason = intent.message ?? 'killed through the API';
    const asked: KillCause = { cleanupType: 'USER_REQUESTED', message: reason };
    const at = Date.now();
    await leader.serialize(async () => {
      // Read in the turn: a status update written before it is not overwritten.
      const task = leader.tasks.get(intent.taskId);
      const marked = task && withCleanup({ ...task, killReason: reason }, asked, at);
      const ops: ZkOp[] = [removeIntentOp('kill-task', intent.taskId)];
      if (marked) ops.push(setActiveTaskOp(marked));
      await leader.write(ops);
      const current = leader.tasks.get(intent.taskId);
      if (current && marked) {
        const { killReason, taskCleanup } = marked;
        leader.tasks.set(current.taskId, { ...current, killReason, taskCleanup });
      }
    });
    const task = leader.tasks.get(intent.taskId);
    // The recorder then has nothing left to write: the cause went with the reason.
    if (task) kills.send(task.taskId, recordedCause(task, asked));
  }
}
