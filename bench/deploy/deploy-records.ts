/**
 * What the bench reads of the product's records while a deploy runs: every version of the
 * request's deploy progress (kept from a watch of the bench's own ZooKeeper session) and the
 * deploy's load-balancer requests (through the product's LbRequestStore).
 */
import {
  type Coordinator,
  type Unwatch,
  decodeJson,
  watchNode,
} from '../../src/coordination/index.js';
import type { LbRequestRecord, LbRequestStore } from '../../src/lb/index.js';
import { type DeployProgress, statePaths } from '../../src/state/index.js';

/** Every progress version seen, in order (deduplicated by znode version). */
export class ProgressLog {
  readonly versions: DeployProgress[] = [];
  private readonly unwatch: Unwatch;
  private lastVersion = -1;

  constructor(zk: Coordinator, requestId: string) {
    const path = statePaths.deployProgress(requestId);
    this.unwatch = watchNode(zk, path, (node) => {
      if (!node || node.version === this.lastVersion) return;
      this.lastVersion = node.version;
      this.versions.push(decodeJson<DeployProgress>(node.data, path));
    });
  }

  /** The latest progress of `deployId` seen. */
  latest(deployId: string): DeployProgress | undefined {
    return this.versions.filter((p) => p.deployId === deployId).at(-1);
  }

  /** When each step of `deployId` started (the leader's record), by step number. */
  stepStarts(deployId: string): Map<number, number> {
    const out = new Map<number, number>();
    for (const p of this.versions) {
      if (p.deployId === deployId && !out.has(p.step)) out.set(p.step, p.stepStartedAt);
    }
    return out;
  }

  /** When the rollback of `deployId` started, if it did. */
  rollbackStartedAt(deployId: string): number | undefined {
    return this.versions.find((p) => p.deployId === deployId && p.rollback)?.rollback?.startedAt;
  }

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
