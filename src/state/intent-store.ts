import { z } from 'zod';
import type { Coordinator, ZkOp } from '../coordination/index.js';
import { type IntentKind, statePaths } from './state-paths.js';
import { ensureStateDirs, readChildren, toData } from './zk-json-store.js';

/** A command from any replica for the leader: kill this task. */
export const killIntentSchema = z.object({
  taskId: z.string(),
  requestId: z.string(),
  at: z.number(),
  message: z.string().optional(),
});
/** A kill-task intent. */
export type KillIntent = z.infer<typeof killIntentSchema>;

/**
 * `/intents/<kind>/<id>`: durable commands any replica writes and the leader drains (and
 * removes in the same fenced multi as their effect). Writing one twice is harmless.
 */
export class IntentStore {
  constructor(private readonly zk: Coordinator) {}

  /** Records that `taskId` should be killed. */
  async killTask(intent: KillIntent): Promise<void> {
    await ensureStateDirs(this.zk);
    const path = statePaths.intent('kill-task', intent.taskId);
    try {
      await this.zk.create(path, toData(intent, path));
    } catch (err) {
      if ((err as { code?: string }).code !== 'NODE_EXISTS') throw err;
    }
  }

  /** Pending kill intents. */
  async killIntents(): Promise<KillIntent[]> {
    const docs = await readChildren(this.zk, statePaths.intentsDir('kill-task'), killIntentSchema);
    return docs.map((d) => d.value);
  }
}

/** Op removing a drained intent. */
export function removeIntentOp(kind: IntentKind, id: string): ZkOp {
  return { op: 'remove', path: statePaths.intent(kind, id), version: -1 };
}
