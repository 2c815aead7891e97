/**
 * Agents as the leader sees them: registration (with reconciliation of the tasks the agent
 * reports against the tasks ZooKeeper says it runs), lost detection after a grace period
 * (longer right after a takeover), and the end of decommissioning.
 */
import type { Register__Output } from '../gen/thales/v1/Register.js';
import {
  type AgentRecord,
  type Deploy,
  type Task,
  DEFAULT_RACK,
  agentRecordSchema,
  isTerminal,
  readJson,
  statePaths,
  writeAgentOp,
} from '../state/index.js';
import { type AgentCall, AgentSession } from './agent-session.js';
import type { StatusWriter } from './status-writer.js';
import type { TaskLeaderContext } from './task-leader-context.js';
import { toTaskSpec } from './task-launcher.js';

/** Registers agents, reconciles their tasks, and declares the silent ones lost. */
export class AgentRegistrar {
  private readonly relaunchedAt = new Map<string, number>();

  constructor(
    private readonly ctx: TaskLeaderContext,
    private readonly status: StatusWriter,
    /** The deploy of a task (cached, or read from ZooKeeper). */
    private readonly deployOf: (requestId: string, deployId: string) => Promise<Deploy | undefined>,
  ) {}

  /**
   * A new stream registered: persist the agent (fenced), answer Registered, then reconcile.
   * Returns the session, or null if the registration could not be persisted.
   */
  async attach(reg: Register__Output, call: AgentCall): Promise<AgentSession | null> {
    const { ctx } = this;
    const session = new AgentSession(reg.agentId, reg, call, ctx.term);
    const record = await this.persistRegistration(reg);
    if (!record) return null;
    const entry = ctx.agents.get(reg.agentId);
    const previous = entry?.session;
    if (previous && previous !== session) previous.close();
    if (entry) entry.session = session;
    session.send({ registered: { agentId: reg.agentId, state: record.state } });
    await this.reconcileReported(session, reg);
    ctx.logger.info(
      { agentId: reg.agentId, reported: reg.tasks.length, state: record.state },
      'agent registered',
    );
    return session;
  }

  /** The stream ended. */
  detach(session: AgentSession): void {
    session.markClosed();
    const entry = this.ctx.agents.get(session.agentId);
    if (entry?.session === session) {
      entry.session = undefined;
      entry.disconnectedAt = Date.now();
    }
  }

  /** Writes `/agents/<id>` (fenced compare-and-set), keeping the administrative state. */
  private async persistRegistration(reg: Register__Output): Promise<AgentRecord | null> {
    const { ctx } = this;
    const path = statePaths.agent(reg.agentId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await readJson(ctx.zk, path, agentRecordSchema);
      const now = Date.now();
      const record: AgentRecord = {
        agentId: reg.agentId,
        host: reg.host || reg.agentId,
        rack: reg.rack || DEFAULT_RACK,
        attributes: reg.attributes,
        resources: {
          cpus: reg.resources?.cpus ?? 0,
          memoryMb: reg.resources?.memoryMb ?? 0,
          diskMb: reg.resources?.diskMb ?? 0,
        },
        portRanges: reg.portRanges.map((r) => ({ begin: r.begin, end: r.end })),
        httpAddress: reg.httpAddress,
        state: stored?.value.state ?? 'ACTIVE',
        registeredAt: now,
        stateChangedAt: stored?.value.stateChangedAt ?? now,
        version: reg.version,
      };
      try {
        await ctx.write([writeAgentOp(record, stored ? stored.version : null)]);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'BAD_VERSION' || code === 'NODE_EXISTS') continue;
        ctx.logger.warn({ err, agentId: reg.agentId }, 'agent registration not persisted');
        return null;
      }
      const version = stored ? stored.version + 1 : 0;
      const entry = ctx.agents.get(reg.agentId);
      if (entry) Object.assign(entry, { record, version });
      else ctx.agents.set(reg.agentId, { record, version, disconnectedAt: now });
      return record;
    }
    return null;
  }

  /**
   * What the agent runs vs what ZooKeeper says it runs:
   * - a live task nobody knows (not active here) is killed;
   * - an active task the agent never acknowledged (TASK_LAUNCHED) is launched again
   *   (Launch is idempotent by task id, so it never runs twice);
   * - an active task it did run but no longer reports is LOST (replaced by the loop).
   */
  private async reconcileReported(session: AgentSession, reg: Register__Output): Promise<void> {
    const reported = new Map(reg.tasks.map((t) => [t.taskId, t.state]));
    for (const [taskId, state] of reported) {
      if (this.ctx.tasks.get(taskId)?.agentId === reg.agentId || isTerminal(state)) continue;
      session.send({
        kill: { taskId, graceMs: this.ctx.options.killGraceMs, reason: 'unknown task' },
      });
    }
    const lost: Task[] = [];
    for (const task of this.ctx.tasksOn(reg.agentId)) {
      if (reported.has(task.taskId)) continue;
      if (task.state === 'TASK_LAUNCHED') {
        await this.relaunch(session, task);
      } else lost.push(task);
    }
    this.markLost(lost, `agent ${reg.agentId} no longer runs it`);
  }

  /** Sends a committed task's Launch again (idempotent on the agent). */
  async relaunch(session: AgentSession, task: Task): Promise<void> {
    const deploy = await this.deployOf(task.requestId, task.deployId).catch(() => undefined);
    if (deploy && this.ctx.active) session.send({ launch: { task: toTaskSpec(task, deploy) } });
  }

  /**
   * Tasks still TASK_LAUNCHED long after their launch (the message was lost with a stream, or
   * with a leader): launched again on their agent's current stream.
   */
  async relaunchStale(now = Date.now(), afterMs = 10_000): Promise<void> {
    for (const task of this.ctx.tasks.values()) {
      if (task.state !== 'TASK_LAUNCHED') continue;
      const last = this.relaunchedAt.get(task.taskId) ?? task.startedAt;
      if (now - last < afterMs) continue;
      const session = this.ctx.agents.get(task.agentId)?.session;
      if (!session?.open) continue;
      this.relaunchedAt.set(task.taskId, now);
      await this.relaunch(session, task);
    }
  }

  /** Agents silent past their grace: their tasks become LOST and the agent is marked lost. */
  async checkLost(now = Date.now()): Promise<void> {
    const { ctx } = this;
    const o = ctx.options;
    for (const entry of ctx.agents.values()) {
      const s = entry.session;
      if (s?.open && now - s.lastHeartbeatAt > o.heartbeatTimeoutMs) {
        ctx.logger.warn({ agentId: entry.record.agentId }, 'agent silent: closing its stream');
        s.close();
        this.detach(s);
      }
      if (entry.session?.open || entry.record.lostAt) continue;
      const deadline = Math.max(
        ctx.establishedAt + o.reconnectGraceMs,
        entry.disconnectedAt + o.agentLostMs,
      );
      if (now < deadline) continue;
      await this.declareLost(entry.record, entry.version);
    }
  }

  private async declareLost(record: AgentRecord, version: number): Promise<void> {
    const { ctx } = this;
    const lostRecord: AgentRecord = { ...record, lostAt: Date.now() };
    try {
      await ctx.write([writeAgentOp(lostRecord, version)]);
    } catch (err) {
      // A concurrent admin change: re-read; the next tick tries again.
      const fresh = await readJson(ctx.zk, statePaths.agent(record.agentId), agentRecordSchema);
      const entry = ctx.agents.get(record.agentId);
      if (fresh && entry) Object.assign(entry, { record: fresh.value, version: fresh.version });
      ctx.logger.warn({ err, agentId: record.agentId }, 'could not mark agent lost yet');
      return;
    }
    const entry = ctx.agents.get(record.agentId);
    if (entry) Object.assign(entry, { record: lostRecord, version: version + 1 });
    const tasks = ctx.tasksOn(record.agentId);
    ctx.logger.warn({ agentId: record.agentId, tasks: tasks.length }, 'agent lost');
    this.markLost(tasks, `agent ${record.agentId} lost`);
  }

  private markLost(tasks: Task[], message: string): void {
    if (tasks.length === 0) return;
    const at = Date.now();
    this.status.fromLeader(
      tasks.map((t) => ({ taskId: t.taskId, update: { state: 'TASK_LOST', at, message } })),
    );
  }

  /** Applies an admin state change read from ZooKeeper (freeze, decommission, activate). */
  adopt(record: AgentRecord, version: number): void {
    const entry = this.ctx.agents.get(record.agentId);
    if (!entry) {
      this.ctx.agents.set(record.agentId, {
        record,
        version,
        disconnectedAt: this.ctx.establishedAt,
      });
    } else if (version > entry.version) Object.assign(entry, { record, version });
  }

  /** DECOMMISSIONING agents with no task left become DECOMMISSIONED. */
  async finishDecommissions(): Promise<void> {
    for (const entry of this.ctx.agents.values()) {
      const r = entry.record;
      if (r.state !== 'DECOMMISSIONING' || this.ctx.tasksOn(r.agentId).length > 0) continue;
      const next: AgentRecord = { ...r, state: 'DECOMMISSIONED', stateChangedAt: Date.now() };
      try {
        await this.ctx.write([writeAgentOp(next, entry.version)]);
        Object.assign(entry, { record: next, version: entry.version + 1 });
      } catch (err) {
        this.ctx.logger.warn({ err, agentId: r.agentId }, 'could not mark decommissioned yet');
      }
    }
  }
}

/** Tasks that must leave their agent because it is being decommissioned. */
export function tasksToEvacuate(ctx: TaskLeaderContext): Task[] {
  const out: Task[] = [];
  for (const entry of ctx.agents.values()) {
    if (entry.record.state === 'DECOMMISSIONING') out.push(...ctx.tasksOn(entry.record.agentId));
  }
  return out;
}
