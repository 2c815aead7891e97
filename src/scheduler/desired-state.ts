/**
 * Where a scheduling cycle gets its desired state from: one interface, so that the per-cycle
 * reads from ZooKeeper below can be replaced by watched caches without touching the cycle.
 */
import type { DeployStore, RequestStore } from '../state/index.js';
import type { PlanRequest } from './reconcile-plan.js';
import type { TaskLeaderContext } from './task-leader-context.js';

/** The desired state of the cluster, as one cycle plans against it. */
export interface DesiredStateSource {
  /**
   * Every request with its active and pending deploy, by request id. Also makes sure the
   * leader's deploy cache holds the deploy of every active task (the spec of a re-launch).
   */
  load(leader: TaskLeaderContext): Promise<Map<string, PlanRequest>>;
}

/** Desired state read from ZooKeeper at each cycle (requests and their deploys). */
export class ZkDesiredState implements DesiredStateSource {
  constructor(
    private readonly requests: RequestStore,
    private readonly deploys: DeployStore,
  ) {}

  async load(leader: TaskLeaderContext): Promise<Map<string, PlanRequest>> {
    const records = await this.requests.list();
    const next = new Map<string, PlanRequest>();
    await Promise.all(
      records.map(async ({ value }) => {
        const { active, pending } = await this.deploys.forRequest(value.request.id);
        for (const d of [active, pending]) if (d) leader.deploys.set(`${d.requestId}/${d.id}`, d);
        next.set(value.request.id, { record: value, active, pending });
      }),
    );
    // Deploys of tasks still running from older deploys (for re-launch specs).
    for (const t of leader.tasks.values()) {
      const key = `${t.requestId}/${t.deployId}`;
      if (!leader.deploys.has(key)) {
        const d = await this.deploys.find(t.requestId, t.deployId);
        if (d) leader.deploys.set(key, d);
      }
    }
    return next;
  }
}
