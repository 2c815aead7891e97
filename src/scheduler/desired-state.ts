/**
 * Where a scheduling cycle gets its desired state from: one interface, so that the per-cycle
 * reads from ZooKeeper below can be replaced by watched caches without touching the cycle.
 */
import type { DeployStore, RequestStore, Task, WatchedState } from '../state/index.js';
import type { PlanRequest } from './reconcile-plan.js';
import type { TaskLeaderContext } from './task-leader-context.js';

/** The desired state of the cluster, as one cycle plans against it. */
export interface DesiredStateSource {
  /**
   * Every request with its active and pending deploy, by request id. Also makes sure the
   * leader's deploy cache holds the deploy of every active task (the spec of a re-launch).
   */
  load(leader: TaskLeaderContext): Promise<Map<string, PlanRequest>>;
  /**
   * Ids of the requests whose desired state the last `load` found changed, or `'all'` when
   * it (re)built everything: a cycle re-plans those (and those whose tasks changed).
   */
  readonly changed: ReadonlySet<string> | 'all';
  /**
   * Whether a request is still as the last `load` saw it (its znode version): a kill planned
   * on an older view is not sent (chaos finding 8). Absent: always.
   */
  stillCurrent?(requestId: string): boolean;
}

/** Desired state read from ZooKeeper at each cycle (requests and their deploys). */
export class ZkDesiredState implements DesiredStateSource {
  readonly changed = 'all' as const;

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

/**
 * Desired state from the replica's watched caches: a cycle reads memory and refreshes only
 * the requests whose znodes changed since the last cycle. Before each load it waits until the
 * caches have applied every change notified so far, which includes the leader's own writes
 * (ZooKeeper notifies a watching session before it answers that session's write) and, after
 * the takeover's barrier, everything acknowledged before this leadership began.
 */
export class CachedDesiredState implements DesiredStateSource {
  changed: ReadonlySet<string> | 'all' = 'all';
  private readonly pending = new Set<string>();
  private readonly current = new Map<string, PlanRequest>();
  /** requestId → znode version of the request as loaded into {@link current}. */
  private readonly versions = new Map<string, number>();
  /** Requests with an active task whose deploy was not found (looked up again next load). */
  private readonly deploysMissing = new Set<string>();
  /** The leadership the map was built for: a new one starts from a full rebuild. */
  private builtFor: TaskLeaderContext | undefined;

  constructor(
    private readonly state: WatchedState,
    private readonly maxWaitMs = 5_000,
  ) {
    state.on('request', (requestId) => this.pending.add(requestId));
  }

  async load(leader: TaskLeaderContext): Promise<Map<string, PlanRequest>> {
    await this.state.caughtUp(this.maxWaitMs, this.state.desiredTrees());
    const full = this.builtFor !== leader;
    const ids = full ? this.state.requestIds() : [...this.pending];
    this.pending.clear();
    if (full) {
      this.current.clear();
      this.versions.clear();
      this.builtFor = leader;
    }
    for (const requestId of ids) this.refresh(leader, requestId);
    this.changed = full ? 'all' : new Set(ids);
    // Deploys of tasks still running from older deploys (for re-launch specs): every task's on
    // a rebuild, then those of changed requests and those not found before. (Tasks launched
    // since were launched from a deploy the leader holds.)
    const tasks = full ? leader.tasks.values() : this.tasksToCheck(leader, ids);
    this.deploysMissing.clear();
    for (const t of tasks) {
      const key = `${t.requestId}/${t.deployId}`;
      if (leader.deploys.has(key)) continue;
      const deploy = this.state.findDeploy(t.requestId, t.deployId);
      if (deploy) leader.deploys.set(key, deploy);
      else this.deploysMissing.add(t.requestId);
    }
    return this.current;
  }

  private tasksToCheck(leader: TaskLeaderContext, changed: string[]): Task[] {
    const rids = new Set([...changed, ...this.deploysMissing]);
    return [...rids].flatMap((rid) => leader.tasks.ofRequest(rid));
  }

  stillCurrent(requestId: string): boolean {
    return this.state.request(requestId)?.version === this.versions.get(requestId);
  }

  private refresh(leader: TaskLeaderContext, requestId: string): void {
    const stored = this.state.request(requestId);
    if (!stored) {
      this.current.delete(requestId);
      this.versions.delete(requestId);
      return;
    }
    this.versions.set(requestId, stored.version);
    const { active, pending } = this.state.deploysOf(requestId);
    for (const d of [active, pending]) if (d) leader.deploys.set(`${d.requestId}/${d.id}`, d);
    this.current.set(requestId, { record: stored.value, active, pending });
  }
}
