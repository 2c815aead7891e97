/**
 * The pure core of the scheduling loop: given a snapshot of desired state (requests and their
 * deploys) and actual state (active tasks), decide what to launch, what to kill and which
 * pending deploys to promote. No I/O, no clock: `now` is in the snapshot.
 *
 * Invariant 3 holds by construction: an instance number is launched only when no active task
 * of the same deploy holds it (tasks being killed still hold theirs until they end).
 */
import {
  type Deploy,
  type KillCause,
  type RequestRecord,
  type TaskCleanupType,
  isLongRunning,
} from '../state/index.js';

/** A request as the plan sees it. */
export interface PlanRequest {
  record: RequestRecord;
  active: Deploy | null;
  pending: Deploy | null;
}

/** An active task as the plan sees it. */
export interface PlanTask {
  taskId: string;
  requestId: string;
  deployId: string;
  instanceNo: number;
  state: string;
  /** A kill was already decided (still active until the agent reports its end). */
  killing: boolean;
}

/** Everything one planning pass looks at. */
export interface PlanSnapshot {
  requests: readonly PlanRequest[];
  tasks: readonly PlanTask[];
  /** `requestId/instanceNo` → epoch ms before which it must not be relaunched (crash back-off). */
  notBefore: ReadonlyMap<string, number>;
  now: number;
  /** Requests whose deploy in progress the deploy driver drives: nothing planned for them here. */
  deploying?: ReadonlySet<string>;
}

/** One instance to launch. */
export interface LaunchIntent {
  requestId: string;
  deployId: string;
  instanceNo: number;
}

/** What to do now. */
export interface Plan {
  launch: LaunchIntent[];
  kill: { taskId: string; cause: KillCause }[];
  /** Pending deploys whose tasks all run: make them active. */
  promote: { requestId: string; deployId: string }[];
  /** Requests being deleted that have no task left: remove them. */
  remove: string[];
}

/** Back-off key of an instance. */
export function instanceKey(requestId: string, instanceNo: number): string {
  return `${requestId}/${instanceNo}`;
}

/** Plans every request independently. */
export function planReconcile(snap: PlanSnapshot): Plan {
  const plan: Plan = { launch: [], kill: [], promote: [], remove: [] };
  const byRequest = new Map<string, PlanTask[]>();
  for (const t of snap.tasks) {
    const list = byRequest.get(t.requestId);
    if (list) list.push(t);
    else byRequest.set(t.requestId, [t]);
  }
  const known = new Set<string>();
  for (const r of snap.requests) {
    known.add(r.record.request.id);
    planRequest(r, byRequest.get(r.record.request.id) ?? [], snap, plan);
  }
  // Tasks of requests that no longer exist.
  for (const [rid, tasks] of byRequest) {
    if (!known.has(rid)) killAll(tasks, cause('REQUEST_DELETING', 'request removed'), plan);
  }
  return plan;
}

function killAll(tasks: readonly PlanTask[], why: KillCause, plan: Plan): void {
  for (const t of tasks) if (!t.killing) plan.kill.push({ taskId: t.taskId, cause: why });
}

function cause(cleanupType: TaskCleanupType, message: string): KillCause {
  return { cleanupType, message };
}

function planRequest(r: PlanRequest, tasks: PlanTask[], snap: PlanSnapshot, plan: Plan): void {
  const { state, request } = r.record;
  if (state === 'DELETING') {
    if (tasks.length === 0) plan.remove.push(request.id);
    else killAll(tasks, cause('REQUEST_DELETING', 'request deleted'), plan);
    return;
  }
  if (state === 'PAUSED' || state === 'FINISHED') {
    const type = state === 'PAUSED' ? 'PAUSING' : 'REQUEST_FINISHED';
    killAll(tasks, cause(type, `request ${state.toLowerCase()}`), plan);
    return;
  }
  // SCHEDULED, ON_DEMAND and RUN_ONCE are launched by the next issue's triggers.
  if (!isLongRunning(request.requestType)) return;
  if (snap.deploying?.has(request.id)) return;
  const target = r.pending ?? r.active;
  if (!target) return;
  const n = request.instances;
  const ofTarget = tasks.filter((t) => t.deployId === target.id);
  const others = tasks.filter((t) => t.deployId !== target.id);
  // Old tasks not of the active or pending deploy go at once; the active deploy's tasks stay
  // until the pending deploy is fully running.
  const keep = r.pending && r.active ? r.active.id : undefined;
  killAll(
    others.filter((t) => t.deployId !== keep),
    cause('INCOMPATIBLE_DEPLOY', 'deploy replaced'),
    plan,
  );
  for (const t of ofTarget) {
    if (t.instanceNo > n && !t.killing) {
      plan.kill.push({ taskId: t.taskId, cause: cause('SCALING_DOWN', 'scaled down') });
    }
  }
  const held = new Set(ofTarget.map((t) => t.instanceNo));
  // A request in cooldown launches nothing until the leader lifts it.
  const launchUpTo = state === 'SYSTEM_COOLDOWN' ? 0 : n;
  for (let i = 1; i <= launchUpTo; i++) {
    if (held.has(i)) continue;
    const notBefore = snap.notBefore.get(instanceKey(request.id, i)) ?? 0;
    if (notBefore > snap.now) continue;
    plan.launch.push({ requestId: request.id, deployId: target.id, instanceNo: i });
  }
  if (r.pending) {
    const running = ofTarget.filter(
      (t) => t.instanceNo <= n && !t.killing && t.state === 'TASK_RUNNING',
    );
    if (running.length >= n) {
      plan.promote.push({ requestId: request.id, deployId: r.pending.id });
      killAll(
        others.filter((t) => t.deployId === keep),
        cause('NEW_DEPLOY_SUCCEEDED', 'deploy replaced'),
        plan,
      );
    }
  }
}
