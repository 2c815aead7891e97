/**
 * What the bench reads of the product's records while a deploy runs: every version of the
 * request's deploy progress (kept from a watch of the bench's own ZooKeeper session), the
 * deploy's load-balancer requests, and the service as every lb-agent applied it.
 */
import {
  type Coordinator,
  type Unwatch,
  decodeJson,
  watchNode,
  zkPaths,
} from '../../src/coordination/index.js';
import type { LbRequestRecord, LbServiceRecord } from '../../src/lb/index.js';
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
export async function lbRequestsOf(zk: Coordinator, prefix: string): Promise<LbRequestRecord[]> {
  const ids = (await zk.children(zkPaths.lbRequestsDir)).filter((id) => id.startsWith(prefix));
  const out: LbRequestRecord[] = [];
  for (const id of ids) {
    const path = `${zkPaths.lbRequestsDir}/${id}`;
    const node = await zk.getOrNull(path);
    if (node) out.push(decodeJson<LbRequestRecord>(node.data, path));
  }
  return out.sort((a, b) => a.submittedAt - b.submittedAt);
}

/** The service as last applied on every lb-agent of its groups (undefined before any). */
export async function lbService(
  zk: Coordinator,
  serviceId: string,
): Promise<LbServiceRecord | undefined> {
  const path = `${zkPaths.lbServicesDir}/${serviceId}`;
  const node = await zk.getOrNull(path);
  return node ? decodeJson<LbServiceRecord>(node.data, path) : undefined;
}
