/**
 * What the bench reads of the product's records while a deploy runs: the request's deploy
 * progress (the latest of each deploy and its rollback's start, from a watch of the bench's
 * own ZooKeeper session) and the deploy's load-balancer requests (through LbRequestStore).
 */
import {
  type Coordinator,
  type Unwatch,
  decodeJson,
  watchNode,
} from '../../src/coordination/index.js';
import type { LbRequestRecord, LbRequestStore } from '../../src/lb/index.js';
import { type DeployProgress, statePaths } from '../../src/state/index.js';

/**
 * What the bench needs of the request's deploy progress as it changes: the latest progress of
 * each deploy, and when a deploy's rollback started (the first progress showing it).
 */
export class ProgressLog {
  private readonly latestOf = new Map<string, DeployProgress>();
  private readonly rollbacks = new Map<string, number>();
  private readonly unwatch: Unwatch;

  constructor(zk: Coordinator, requestId: string) {
    const path = statePaths.deployProgress(requestId);
    let lastVersion = -1;
    this.unwatch = watchNode(zk, path, (node) => {
      if (!node || node.version === lastVersion) return;
      lastVersion = node.version;
      const p = decodeJson<DeployProgress>(node.data, path);
      this.latestOf.set(p.deployId, p);
      if (p.rollback && !this.rollbacks.has(p.deployId))
        this.rollbacks.set(p.deployId, p.rollback.startedAt);
    });
  }

  /** The latest progress of `deployId` seen. */
  latest(deployId: string): DeployProgress | undefined {
    return this.latestOf.get(deployId);
  }

  /** When the rollback of `deployId` started, if it did. */
  rollbackStartedAt(deployId: string): number | undefined {
    return this.rollbacks.get(deployId);
  }

  /** Ends the watch. */
  stop(): void {
    this.unwatch();
  }
}

/** The load-balancer requests whose id starts with `prefix` (a deploy's: `web-v2-…`). */
export async function lbRequestsOf(
  store: LbRequestStore,
  prefix: string,
): Promise<LbRequestRecord[]> {
  const ids = (await store.requestIds()).filter((id) => id.startsWith(prefix));
  const records = await Promise.all(ids.map((id) => store.getRequest(id)));
  return records.flatMap((r) => (r ? [r.value] : [])).sort((a, b) => a.submittedAt - b.submittedAt);
}
