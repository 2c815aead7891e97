/**
 * Kills, and when to send one again. A Kill is idempotent on the agent (by task id): SIGTERM
 * to the task's process group, `killGraceMs`, SIGKILL, then a TASK_KILLED status update. A
 * task still active {@link KILL_RESEND_MARGIN_MS} past that grace has lost either the command
 * or its report (a stream that broke, a leader that changed in between), so the Kill is sent
 * again, stamped with this leader's term like every command.
 */
import type { KillCause, Task } from '../state/index.js';
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

/**
 * Records a kill on the task's record (its `taskCleanup`), called once per kill when it is
 * first sent: the write is the recorder's, the kill does not wait for it.
 */
export type KillRecorder = (taskId: string, cause: KillCause, at: number) => void;

/** Sends kills of active tasks and re-sends them under the policy above. */
export class KillSender {
  /** Kills decided but held until the task is out of every load balancer. */
  private readonly held = new Map<string, KillCause>();
  /** Set by the load-balancer follower; none: no kill waits. */
  hold: KillHold | undefined;

  constructor(
    private readonly leader: LeaderState,
    private readonly record: KillRecorder = () => undefined,
  ) {}

  /**
   * Decides the kill of an active task: held while {@link hold} says so (see
   * {@link release}), else recorded and sent if the task's agent is connected.
   */
  send(taskId: string, cause: KillCause, now = Date.now()): void {
    const task = this.leader.tasks.get(taskId);
    if (!task || this.leader.killsSent.has(taskId)) {
      if (task) this.sendNow(taskId, cause, now);
      return;
    }
    if (this.hold?.(task)) {
      // The first decision names the kill (a scale-down held, then a pause: scaled down).
      if (!this.held.has(taskId)) this.held.set(taskId, cause);
    } else this.sendNow(taskId, cause, now);
  }

  /** Kills held for the load balancer: task id → cause. */
  heldKills(): ReadonlyMap<string, KillCause> {
    return this.held;
  }

  /** Sends a held kill: its task is out of every load balancer now. */
  release(taskId: string, now = Date.now()): void {
    const cause = this.held.get(taskId);
    this.held.delete(taskId);
    if (cause !== undefined) this.sendNow(taskId, cause, now);
  }

  /**
   * Records the kill of an active task and sends it if the task's agent is connected, with
   * no hold: for callers that took the task out of the load balancer themselves (deploys).
   */
  sendNow(taskId: string, cause: KillCause, now = Date.now()): void {
    const { leader } = this;
    const task = leader.tasks.get(taskId);
    if (!task) return;
    this.held.delete(taskId);
    const first = !leader.killsSent.has(taskId);
    // A re-send keeps the first kill's cause: that is why the task ends.
    const kept = leader.killsSent.get(taskId)?.cause ?? cause;
    leader.killsSent.set(taskId, { at: now, cause: kept });
    if (first && !task.taskCleanup) this.record(taskId, kept, now);
    const session = leader.agents.get(task.agentId)?.session;
    if (session && leader.active) {
      const reason = `${kept.cleanupType}: ${kept.message}`;
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
        this.sendNow(taskId, kill.cause, now);
      }
    }
  }
}
