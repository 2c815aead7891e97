/**
 * Carries out agent reconciliation (agent-reconcile-plan.ts) on connected agents: kills
 * stamped with this leadership's term, LOST through the status writer, launches sent again.
 *
 * When it runs: on every registration, against the complete report it carries; and at the
 * start of every scheduling cycle for every connected agent not settled or changed since. Cycles run on the tick and after
 * every change that can race with a registration's reconcile: a task leaving the active set
 * (a LOST or an end committing), a status update, a registration, a drained kill intent. So a
 * task reported at registration while its LOST was still being written is killed by the
 * first cycle after that LOST commits.
 */
import { type Deploy, type KillCause, type Task, recordedCause } from '../state/index.js';
import {
  type AgentReconcilePlan,
  agentSettled,
  planAgentReconcile,
} from './agent-reconcile-plan.js';
import type { AgentSession } from './agent-session.js';
import type { KillSender } from './kill-policy.js';
import type { TaskStatusChange } from './status-writer.js';
import { toTaskSpec } from './task-launcher.js';
import type { LeaderState } from './task-leader-context.js';

/** How often a round reconciles every connected agent, settled or not. */
const FULL_RECONCILE_EVERY_MS = 30_000;

/** What the reconciler sends LOST transitions to (the StatusWriter). */
export interface LostSink {
  fromLeader(changes: TaskStatusChange[]): void;
}

/** Reconciles connected agents' running sets with the active tasks. */
export class AgentReconciler {
  /**
   * Whether an orphan's kill on this agent must wait: a load balancer may still route to an
   * upstream there that no active task owns (set by the load-balancer follower; none: no wait).
   */
  orphanHold: ((agentId: string) => boolean) | undefined;

  /** Launches sent again by this leadership, taskId → when. */
  private readonly launchesSentAt = new Map<string, number>();
  /** When every connected agent was last reconciled (0: the next round does). */
  private lastFullAt = 0;

  constructor(
    private readonly leader: LeaderState,
    private readonly lostSink: LostSink,
    private readonly kills: KillSender,
    /** The deploy of a task (cached, or read from ZooKeeper). */
    private readonly deployOf: (requestId: string, deployId: string) => Promise<Deploy | undefined>,
  ) {}

  /**
   * Reconciles the connected agents that may have something to do: every agent not settled
   * (agentSettled) and every one whose report or active tasks changed since; all of them at
   * least every {@link FULL_RECONCILE_EVERY_MS}, a net under that bookkeeping. A cluster in
   * which nothing changes so costs its unsettled agents only, not its tasks.
   */
  async reconcileConnected(now = Date.now()): Promise<void> {
    const changed = this.leader.tasks.takeChangedAgents();
    const full = now - this.lastFullAt >= FULL_RECONCILE_EVERY_MS;
    if (full) this.lastFullAt = now;
    for (const entry of this.leader.agents.values()) {
      const session = entry.session;
      if (!session?.open) continue;
      if (!full && session.settled && !changed.has(session.agentId)) continue;
      const here = this.leader.tasks.ofAgent(session.agentId);
      await this.carryOut(session, this.plan(session, here, false, now), now);
      session.settled = agentSettled(session.reported, here);
    }
    for (const taskId of this.launchesSentAt.keys()) {
      if (this.leader.tasks.get(taskId)?.state !== 'TASK_LAUNCHED')
        this.launchesSentAt.delete(taskId);
    }
  }

  /** Reconciles one agent against the complete report it just registered with. */
  async reconcileRegistration(session: AgentSession, now = Date.now()): Promise<void> {
    const here = this.leader.tasks.ofAgent(session.agentId);
    await this.carryOut(session, this.plan(session, here, true, now), now);
    session.settled = agentSettled(session.reported, here);
  }

  private plan(
    session: AgentSession,
    activeHere: readonly Task[],
    fullReport: boolean,
    now: number,
  ): AgentReconcilePlan {
    const { leader } = this;
    const killsSentAt = new Map(session.orphanKillsAt);
    for (const t of activeHere) {
      const sent = leader.killsSent.get(t.taskId);
      if (sent) killsSentAt.set(t.taskId, sent.at);
      // A kill held for the load balancer is decided: not to be re-planned as a lost one.
      else if (this.kills.heldKills().has(t.taskId)) killsSentAt.set(t.taskId, now);
    }
    return planAgentReconcile({
      agentId: session.agentId,
      reported: session.reported,
      fullReport,
      activeHere,
      active: leader.tasks,
      killsSentAt,
      launchesSentAt: this.launchesSentAt,
      unreportedSince: session.unreportedSince,
      now,
      killGraceMs: leader.options.killGraceMs,
      unreportedGraceMs: leader.options.unreportedGraceMs,
      relaunchAfterMs: leader.options.relaunchAfterMs,
    });
  }

  private async carryOut(
    session: AgentSession,
    plan: AgentReconcilePlan,
    now: number,
  ): Promise<void> {
    const { leader } = this;
    trackUnreported(session, plan.unreported, now);
    for (const taskId of plan.forget) {
      session.reported.delete(taskId);
      session.orphanKillsAt.delete(taskId);
    }
    if (!leader.active) return;
    for (const k of plan.kill) {
      const orphan = leader.tasks.get(k.taskId)?.agentId !== session.agentId;
      // Not recorded as sent: the next round plans it again, until nothing may route to it.
      if (orphan && this.orphanHold?.(session.agentId)) continue;
      leader.logger.info(
        { agentId: session.agentId, taskId: k.taskId, reason: k.reason, detail: k.message },
        'reconciliation: kill',
      );
      if (!orphan) {
        // Its kill was persisted by a previous leader (an API kill): sent again, for the cause
        // its record keeps (the first one), the user's when none was recorded.
        const asked: KillCause = { cleanupType: 'USER_REQUESTED', message: k.message };
        this.kills.send(k.taskId, recordedCause(leader.tasks.get(k.taskId), asked), now);
        continue;
      }
      session.orphanKillsAt.set(k.taskId, now);
      session.send({
        kill: { taskId: k.taskId, graceMs: leader.options.killGraceMs, reason: k.reason },
      });
    }
    if (plan.lost.length > 0) {
      leader.logger.warn(
        { agentId: session.agentId, tasks: plan.lost.length },
        'reconciliation: active tasks the agent does not run are LOST',
      );
      this.lostSink.fromLeader(
        plan.lost.map((lost) => ({
          taskId: lost.taskId,
          update: { state: 'TASK_LOST', at: now, message: lost.message },
        })),
      );
    }
    for (const taskId of plan.relaunch) await this.relaunch(session, taskId, now);
  }

  /** Sends a committed task's Launch again (idempotent on the agent). */
  private async relaunch(session: AgentSession, taskId: string, now: number): Promise<void> {
    const task = this.leader.tasks.get(taskId);
    if (!task) return;
    this.launchesSentAt.set(taskId, now);
    const deploy = await this.deployOf(task.requestId, task.deployId).catch(() => undefined);
    if (deploy && this.leader.active && session.open) {
      session.send({ launch: { task: toTaskSpec(task, deploy) } });
    }
  }
}

/** Keeps the `since` of tasks still unreported, forgets those reported again (or gone). */
function trackUnreported(session: AgentSession, unreported: string[], now: number): void {
  const still = new Set(unreported);
  for (const taskId of session.unreportedSince.keys()) {
    if (!still.has(taskId)) session.unreportedSince.delete(taskId);
  }
  for (const taskId of unreported) {
    if (!session.unreportedSince.has(taskId)) session.unreportedSince.set(taskId, now);
  }
}
