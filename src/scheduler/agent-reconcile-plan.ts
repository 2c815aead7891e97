/**
 * The pure core of agent reconciliation (Mesos' explicit reconciliation): what one connected
 * agent runs, as it reported it, against what the cluster holds active on it. No I/O, no
 * clock: `now` is in the snapshot.
 *
 * - A task the agent runs that is not active on it (unknown, ended, LOST, or placed
 *   elsewhere) is killed; the Kill is re-sent under the kill policy until the agent reports
 *   the task's end.
 * - An active task whose kill was persisted (by an earlier leadership, through a kill
 *   intent) but not sent by this one is killed: a kill in flight across a failover.
 * - An active task the agent does not report is, if still TASK_LAUNCHED, launched again
 *   (Launch is idempotent by task id); otherwise marked LOST: at once on a registration (a
 *   complete report), else once it has gone unreported for the grace.
 * - A task the agent reported ended is left to the status writer, which persists its end.
 */
import { isKillResendDue } from './kill-policy.js';

/** An active task as reconciliation sees it. */
export interface ReconcileTask {
  taskId: string;
  agentId: string;
  state: string;
  startedAt: number;
  /** Set when a kill was persisted for it (a kill intent drained). */
  killReason?: string | undefined;
}

/** One agent's side and the leader's, at one moment. */
export interface AgentReconcileSnapshot {
  agentId: string;
  /** What the agent reported: taskId → its last state (registration, then status updates). */
  reported: ReadonlyMap<string, string>;
  /** `reported` is a registration just received: a complete report of what runs there. */
  fullReport: boolean;
  /** Active tasks placed on this agent. */
  activeHere: readonly ReconcileTask[];
  /** Every active task of the cluster, by id (to tell a task placed on another agent). */
  active: ReadonlyMap<string, ReconcileTask>;
  /** Kills sent by this leadership, taskId → when last sent. */
  killsSentAt: ReadonlyMap<string, number>;
  /** Launches sent by this leadership (after the first), taskId → when last sent. */
  launchesSentAt: ReadonlyMap<string, number>;
  /** Active tasks already seen unreported, taskId → since when. */
  unreportedSince: ReadonlyMap<string, number>;
  now: number;
  /** The agent's SIGTERM → SIGKILL grace sent with each Kill. */
  killGraceMs: number;
  /** How long a task may go unreported (outside a registration) before it is LOST. */
  unreportedGraceMs: number;
  /** How long after its last Launch an unacknowledged task is launched again. */
  relaunchAfterMs: number;
}

/** Why reconciliation kills a task. */
export type ReconcileKillReason = 'not active on this agent' | 'kill persisted before failover';

/** What to do on this agent now. */
export interface AgentReconcilePlan {
  kill: { taskId: string; reason: ReconcileKillReason; message: string }[];
  lost: { taskId: string; message: string }[];
  relaunch: string[];
  /** Active tasks unreported now but within their grace (the driver keeps their `since`). */
  unreported: string[];
  /** Reported tasks that need no more tracking (ended and no longer active). */
  forget: string[];
}

/** States after which a task runs no more. */
const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST']);

/** Plans one agent's reconciliation. */
export function planAgentReconcile(snap: AgentReconcileSnapshot): AgentReconcilePlan {
  const plan: AgentReconcilePlan = { kill: [], lost: [], relaunch: [], unreported: [], forget: [] };
  planReported(snap, plan);
  for (const task of snap.activeHere) planActive(snap, task, plan);
  return plan;
}

/** Tasks the agent reports: kill those not active on it. */
function planReported(snap: AgentReconcileSnapshot, plan: AgentReconcilePlan): void {
  for (const [taskId, state] of snap.reported) {
    const active = snap.active.get(taskId);
    const here = active?.agentId === snap.agentId;
    if (TERMINAL.has(state)) {
      if (!here) plan.forget.push(taskId);
      continue;
    }
    if (here || !killDue(snap, taskId)) continue;
    const message = active ? `active on agent ${active.agentId}` : 'not an active task';
    plan.kill.push({ taskId, reason: 'not active on this agent', message });
  }
}

/** One active task placed on this agent. */
function planActive(
  snap: AgentReconcileSnapshot,
  task: ReconcileTask,
  plan: AgentReconcilePlan,
): void {
  const state = snap.reported.get(task.taskId);
  if (state !== undefined) {
    if (TERMINAL.has(state) || !task.killReason || snap.killsSentAt.has(task.taskId)) return;
    plan.kill.push({
      taskId: task.taskId,
      reason: 'kill persisted before failover',
      message: task.killReason,
    });
    return;
  }
  if (task.state === 'TASK_LAUNCHED') {
    const last = snap.launchesSentAt.get(task.taskId) ?? task.startedAt;
    if (snap.fullReport || snap.now - last >= snap.relaunchAfterMs) plan.relaunch.push(task.taskId);
    return;
  }
  const since = snap.unreportedSince.get(task.taskId);
  if (snap.fullReport || (since !== undefined && snap.now - since >= snap.unreportedGraceMs)) {
    plan.lost.push({ taskId: task.taskId, message: `agent ${snap.agentId} no longer runs it` });
  } else plan.unreported.push(task.taskId);
}

function killDue(snap: AgentReconcileSnapshot, taskId: string): boolean {
  const sentAt = snap.killsSentAt.get(taskId);
  return sentAt === undefined || isKillResendDue(sentAt, snap.now, snap.killGraceMs);
}

/**
 * Whether an agent's reconcile has nothing to do now or later while neither its report nor
 * its active tasks change: it reports exactly its active tasks, each still running, none
 * with a persisted kill. No time-based rule (kill re-sends, relaunches, the unreported grace)
 * can then fire, so a cycle may skip the agent until one of the two changes.
 */
export function agentSettled(
  reported: ReadonlyMap<string, string>,
  activeHere: readonly ReconcileTask[],
): boolean {
  if (reported.size !== activeHere.length) return false;
  for (const task of activeHere) {
    const state = reported.get(task.taskId);
    if (state === undefined || TERMINAL.has(state) || task.killReason) return false;
  }
  return true;
}
