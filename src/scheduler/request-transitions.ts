/**
 * The leader's request-level transitions, each one fenced multi: promote a pending deploy,
 * remove a deleted request, enter and leave SYSTEM_COOLDOWN.
 */
import type { ZkOp } from '../coordination/index.js';
import {
  type DeployStore,
  type RequestRecord,
  type RequestStore,
  promoteDeployOps,
  statePaths,
  toData,
} from '../state/index.js';
import type { PlanRequest } from './reconcile-plan.js';
import type { TaskLeaderContext } from './task-leader-context.js';

/**
 * Pending → active (the previous active → history). Reads: the cycle's view of the request.
 * Writes: `/deploys/<rid>/pending|active|history/…`.
 */
export async function promoteDeploy(
  leader: TaskLeaderContext,
  requests: Map<string, PlanRequest>,
  rid: string,
  did: string,
): Promise<void> {
  const r = requests.get(rid);
  if (!r?.pending || r.pending.id !== did) return;
  await leader.write(promoteDeployOps(r.pending, r.active));
  leader.logger.info({ requestId: rid, deployId: did }, 'deploy active');
  requests.set(rid, { ...r, active: r.pending, pending: null });
}

/**
 * A DELETING request without tasks: its deploys and the request go in one multi, the request
 * by compare-and-set (an undelete meanwhile wins). Task history stays.
 */
export async function removeRequest(
  leader: TaskLeaderContext,
  store: RequestStore,
  deploys: DeployStore,
  requests: Map<string, PlanRequest>,
  rid: string,
): Promise<void> {
  const ops: ZkOp[] = [];
  for (const kind of ['pending', 'active', 'history'] as const) {
    for (const d of await deploys.list(rid, kind)) {
      ops.push({ op: 'remove', path: statePaths.deploy(rid, kind, d.value.id), version: -1 });
    }
  }
  if (await deploys.progress(rid)) {
    ops.push({ op: 'remove', path: statePaths.deployProgress(rid), version: -1 });
  }
  const current = await store.get(rid).catch(() => null);
  if (!current || current.value.state !== 'DELETING') return;
  ops.push({ op: 'remove', path: statePaths.request(rid), version: current.version });
  await leader.write(ops);
  requests.delete(rid);
  leader.logger.info({ requestId: rid }, 'request deleted');
}

/** Requests in SYSTEM_COOLDOWN whose cooldown (`endsAt`) is over go back to ACTIVE. */
export async function liftCooldowns(
  leader: TaskLeaderContext,
  store: RequestStore,
  requests: Map<string, PlanRequest>,
  endsAt: (since: { rid: string; at: number }) => number,
): Promise<void> {
  for (const r of requests.values()) {
    if (r.record.state !== 'SYSTEM_COOLDOWN') continue;
    const rid = r.record.request.id;
    if (Date.now() < endsAt({ rid, at: r.record.timestamp })) continue;
    await setRequestState(leader, store, rid, 'ACTIVE', undefined);
  }
}

/** Sets a request's state by compare-and-set, fenced. */
export async function setRequestState(
  leader: TaskLeaderContext,
  store: RequestStore,
  rid: string,
  state: RequestRecord['state'],
  message: string | undefined,
): Promise<void> {
  const current = await store.get(rid);
  const next: RequestRecord = { ...current.value, state, timestamp: Date.now() };
  if (message) next.stateMessage = message;
  else delete next.stateMessage;
  const path = statePaths.request(rid);
  await leader.write([{ op: 'set', path, data: toData(next, path), version: current.version }]);
}
