/**
 * Kills, and when to send one again. A Kill is idempotent on the agent (by task id): SIGTERM
 * to the task's process group, `killGraceMs`, SIGKILL, then a TASK_KILLED status update. A
 * task still active {@link KILL_RESEND_MARGIN_MS} past that grace has lost either the command
 * or its report (a stream that broke, a leader that changed in between), so the Kill is sent
 * again, stamped with this leader's term like every command.
 */
import type { Task } from '../state/index.js';
import type { LeaderState } from './task-leader-context.js';

/**
 * Whether a kill must wait: the task may still be routed to by a load balancer, so its
 * upstream is removed first (invariant 5; lb-follower.ts releases it once out everywhere).
 */
export type KillHold = (task: Task) => boolean;

/**
 * Margin past the agent's SIGTERM → SIGKILL grace before a Kill is re-sent: time for the
 * agent to notice the exit, report it, and for this leader to persist the report. Shorter
 * would re-send kills whose report is merely in flight (harmless, but noise on every kill).
 */
export const KILL_RESEND_MARGIN_MS = 2_000;

/** Whether a Kill last sent at `sentAt` is due again at `now` (see the module comment). */
export function isKillResendDue(sentAt: number, now: number, killGraceMs: number): boolean {
  return now - sentAt > killGraceMs + KILL_RESEND_MARGIN_MS;
}

/** Sends kills of active tasks and re-sends them under the policy above. */
export class KillSender {
  /** Kills decided but held until the task is out of every load balancer. */
  private readonly held = new Map<string, string>();
  /** Set by the load-balancer follower; none: no kill waits. */
  hold: KillHold | undefined;

  constructor(private readonly leader: LeaderState) {}

  /**
   * Decides the kill of an active task: held while {@link hold} says so (see
   * {@link release}), else recorded and sent if the task's agent is connected.
   */
  send(taskId: string, reason: string, now = Date.now()): void {
    const task = this.leader.tasks.get(taskId);
    if (!task || this.leader.killsSent.has(taskId)) {
      if (task) this.sendNow(taskId, reason, now);
      return;
    }
    if (this.hold?.(task)) this.held.set(taskId, reason);
    else this.sendNow(taskId, reason, now);
  }

  /** Kills held for the load balancer: task id → reason. */
  heldKills(): ReadonlyMap<string, string> {
    return this.held;
  }

  /** Sends a held kill: its task is out of every load balancer now. */
  release(taskId: string, now = Date.now()): void {
    const reason = this.held.get(taskId);
    this.held.delete(taskId);
    if (reason !== undefined) this.sendNow(taskId, reason, now);
  }

  /**
   * Records the kill of an active task and sends it if the task's agent is connected, with
   * no hold: for callers that took the task out of the load balancer themselves (deploys).
   */
  sendNow(taskId: string, reason: string, now = Date.now()): void {
    const { leader } = this;
    const task = leader.tasks.get(taskId);
    if (!task) return;
    this.held.delete(taskId);
    leader.killsSent.set(taskId, { at: now, reason });
    const session = leader.agents.get(task.agentId)?.session;
    if (session && leader.active) {
      session.send({ kill: { taskId, graceMs: leader.options.killGraceMs, reason } });
    }
  }

  /** Whether a kill of this task was already decided by this leadership. */
  isKilling(taskId: string): boolean {
    return this.leader.killsSent.has(taskId) || this.held.has(taskId);
  }

  /** Re-sends the kills that are due; forgets those of tasks no longer active. */
  resendDue(now = Date.now()): void {
    const { leader } = this;
    for (const taskId of this.held.keys()) if (!leader.tasks.has(taskId)) this.held.delete(taskId);
    for (const [taskId, kill] of leader.killsSent) {
      if (!leader.tasks.has(taskId)) leader.killsSent.delete(taskId);
      else if (isKillResendDue(kill.at, now, leader.options.killGraceMs)) {
        this.sendNow(taskId, kill.reason, now);
      }
    }
  }
}
