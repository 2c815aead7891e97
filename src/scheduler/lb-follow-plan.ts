/**
 * The pure rule by which a load-balanced request's upstreams follow its tasks outside a
 * deploy (scale up and down, kills from the API, pause, delete, unhealthy replacement, lost
 * agents, decommission): add a task once it runs HEALTHY; take a task out before any kill
 * (invariant 5: a held kill is released only when no lb-agent may route to it); take out at
 * once the upstreams of tasks that ended (a lost agent) or that no live task owns. One load-
 * balancer request at a time per service: nothing is planned while one is open.
 */
import type { LbPresence } from '../deploys/index.js';
import { type HealthStatus, type TaskState, isTerminal } from '../state/index.js';

/** A task of the request as the rule sees it. */
export interface FollowTask {
  taskId: string;
  /** `host:port` of its load-balancer port; undefined without one. */
  upstream: string | undefined;
  state: TaskState;
  health: HealthStatus | undefined;
  /** Of the deploy the request should run (the active one). */
  ofTarget: boolean;
  /** Its kill is held until it is out of every load balancer. */
  held: boolean;
  /** Its kill was sent (without a hold: a previous leader, or a deploy's own). */
  killing: boolean;
  lb: LbPresence;
}

/** One request's view. */
export interface FollowSnapshot {
  tasks: readonly FollowTask[];
  /** Upstreams of the stored service (applied on every lb-agent of its groups). */
  storedUpstreams: ReadonlySet<string>;
  /** A request is open on the service: wait for it. */
  busy: boolean;
  /** False while a deploy drives the request: only held kills are handled here. */
  follow: boolean;
}

/** What to do for one request. */
export interface FollowPlan {
  /** Upstreams to add and remove in one load-balancer request (both empty: none). */
  add: string[];
  remove: string[];
  /** Held kills that may go now. */
  release: string[];
  /** Running tasks reported UNHEALTHY: kill (held, so out of the load balancer first) and replace. */
  retire: string[];
}

/** Plans one request. */
export function planLbFollow(snap: FollowSnapshot): FollowPlan {
  const add = new Set<string>();
  const remove = new Set<string>();
  const release: string[] = [];
  const retire: string[] = [];
  const live = new Set<string>();
  for (const t of snap.tasks) {
    if (t.upstream && !isTerminal(t.state)) live.add(t.upstream);
    if (t.held) {
      if (t.lb === 'NONE') release.push(t.taskId);
      else if (t.lb === 'ALL' && t.upstream) remove.add(t.upstream);
      continue;
    }
    if (!snap.follow) continue;
    if (t.upstream && t.lb === 'ALL' && (t.killing || isTerminal(t.state))) {
      remove.add(t.upstream);
      continue;
    }
    if (t.killing || t.state !== 'TASK_RUNNING') continue;
    if (t.health === 'UNHEALTHY') retire.push(t.taskId);
    else if (t.ofTarget && t.health === 'HEALTHY' && t.lb === 'NONE' && t.upstream) {
      add.add(t.upstream);
    }
  }
  if (snap.follow) for (const u of snap.storedUpstreams) if (!live.has(u)) remove.add(u);
  if (snap.busy) return { add: [], remove: [], release, retire };
  return { add: [...add], remove: [...remove], release, retire };
}
