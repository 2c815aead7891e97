/**
 * Agents as the leader sees them: registration (then reconciliation of the tasks the agent
 * reports, agent-reconciler.ts), lost detection after a grace period (longer right after a
 * takeover), and the end of decommissioning.
 */
import type { Register__Output } from '../gen/thales/v1/Register.js';
import {
  type AgentRecord,
  type Task,
  DEFAULT_RACK,
  agentRecordSchema,
  readJson,
  statePaths,
  writeAgentOp,
} from '../state/index.js';
import { Backoff } from '../runtime/index.js';
import type { AgentReconciler } from './agent-reconciler.js';
import { type AgentCall, AgentSession } from './agent-session.js';
import type { StatusWriter } from './status-writer.js';
import type { TaskLeaderContext } from './task-leader-context.js';

/** Registers agents, has their tasks reconciled, and declares the silent ones lost. */
export class AgentRegistrar {
  /** Agents whose registration is being persisted: not to be declared lost meanwhile. */
  private readonly registering = new Map<string, number>();

  constructor(
    private readonly leader: TaskLeaderContext,
    private readonly status: StatusWriter,
    private readonly reconciler: AgentReconciler,
  ) {}

  /**
   * A new stream registered: persist the agent (fenced), answer Registered, then reconcile.
   * Returns the session, or null if the registration could not be persisted.
   */
  async attach(reg: Register__Output, call: AgentCall): Promise<AgentSession | null> {
    const { leader } = this;
    const session = new AgentSession(reg.agentId, reg, call, leader.term);
    this.registering.set(reg.agentId, (this.registering.get(reg.agentId) ?? 0) + 1);
    let record: AgentRecord | null;
    try {
      record = await this.persistRegistration(reg);
    } finally {
      const n = (this.registering.get(reg.agentId) ?? 1) - 1;
      if (n > 0) this.registering.set(reg.agentId, n);
      else this.registering.delete(reg.agentId);
    }
    if (!record) {
      this.markLostIfRecorded(reg.agentId);
      return null;
    }
    const entry = leader.agents.get(reg.agentId);
    const previous = entry?.session;
    if (previous && previous !== session) previous.close();
    if (entry) entry.session = session;
    session.send({ registered: { agentId: reg.agentId, state: record.state } });
    await this.reconciler.reconcileRegistration(session);
    leader.logger.info(
      { agentId: reg.agentId, reported: reg.tasks.length, state: record.state },
      'agent registered',
    );
    return session;
  }

  /** The stream ended. */
  detach(session: AgentSession): void {
    session.markClosed();
    const entry = this.leader.agents.get(session.agentId);
    if (entry?.session === session) {
      entry.session = undefined;
      entry.disconnectedAt = Date.now();
    }
  }

  /**
   * Writes `/agents/<id>` (fenced compare-and-set), keeping the administrative state. A lost
   * race with an admin change is read again and retried under the `zookeeper` policy.
   */
  private async persistRegistration(reg: Register__Output): Promise<AgentRecord | null> {
    const { leader } = this;
    const path = statePaths.agent(reg.agentId);
    const backoff = new Backoff('zookeeper');
    for (;;) {
      const stored = await readJson(leader.zk, path, agentRecordSchema);
      const now = Date.now();
      const record = toAgentRecord(reg, stored?.value, now);
      try {
        await leader.write([writeAgentOp(record, stored ? stored.version : null)]);
      } catch (err) {
        const code = (err as { code?: string }).code;
        const lostRace = code === 'BAD_VERSION' || code === 'NODE_EXISTS';
        if (lostRace && !backoff.exhausted) {
          await new Promise((resolve) => setTimeout(resolve, backoff.next()));
          continue;
        }
        leader.logger.warn({ err, agentId: reg.agentId }, 'agent registration not persisted');
        return null;
      }
      const version = stored ? stored.version + 1 : 0;
      const entry = leader.agents.get(reg.agentId);
      if (entry) Object.assign(entry, { record, version });
      else leader.agents.set(reg.agentId, { record, version, disconnectedAt: now });
      return record;
    }
  }

  /** Agents silent past their grace: their tasks become LOST and the agent is marked lost. */
  async checkLost(now = Date.now()): Promise<void> {
    const { leader } = this;
    const { options } = leader;
    for (const entry of leader.agents.values()) {
      const session = entry.session;
      if (session?.open && now - session.lastHeartbeatAt > options.heartbeatTimeoutMs) {
        leader.logger.warn({ agentId: entry.record.agentId }, 'agent silent: closing its stream');
        session.close();
        this.detach(session);
      }
      if (entry.session?.open || entry.record.lostAt) continue;
      if (this.registering.has(entry.record.agentId)) continue;
      const deadline = Math.max(
        leader.establishedAt + options.reconnectGraceMs,
        entry.disconnectedAt + options.agentLostMs,
      );
      if (now < deadline) continue;
      await this.declareLost(entry.record, entry.version);
    }
  }

  private async declareLost(record: AgentRecord, version: number): Promise<void> {
    const { leader } = this;
    const lostRecord: AgentRecord = { ...record, lostAt: Date.now() };
    try {
      await leader.write([writeAgentOp(lostRecord, version)]);
    } catch (err) {
      // A concurrent admin change: re-read; the next tick tries again.
      const fresh = await readJson(leader.zk, statePaths.agent(record.agentId), agentRecordSchema);
      const entry = leader.agents.get(record.agentId);
      if (fresh && entry) Object.assign(entry, { record: fresh.value, version: fresh.version });
      leader.logger.warn({ err, agentId: record.agentId }, 'could not mark agent lost yet');
      return;
    }
    const entry = leader.agents.get(record.agentId);
    // It registered again while the lost mark was being written (seen in the rolling
    // upgrade at load 20: registered, then "lost" 166 ms later, its running task killed as an
    // orphan): its registration rewrites the record after ours, and it reported its tasks.
    if (entry?.session?.open || this.registering.has(record.agentId)) {
      // Still registering: keep the entry in step with ZooKeeper (a failed registration
      // then marks the tasks, see attach); registered: its newer record stays.
      if (entry && entry.version === version)
        Object.assign(entry, { record: lostRecord, version: version + 1 });
      leader.logger.info({ agentId: record.agentId }, 'agent re-registered while marked lost');
      return;
    }
    if (entry) Object.assign(entry, { record: lostRecord, version: version + 1 });
    const tasks = leader.tasksOn(record.agentId);
    leader.logger.warn({ agentId: record.agentId, tasks: tasks.length }, 'agent lost');
    this.markLost(tasks, `agent ${record.agentId} lost`);
  }

  /** A registration that failed after a lost mark it raced with: that mark now stands. */
  private markLostIfRecorded(agentId: string): void {
    const entry = this.leader.agents.get(agentId);
    if (!entry?.record.lostAt || entry.session?.open || this.registering.has(agentId)) return;
    this.markLost(this.leader.tasksOn(agentId), `agent ${agentId} lost`);
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
    const entry = this.leader.agents.get(record.agentId);
    if (!entry) {
      this.leader.agents.set(record.agentId, {
        record,
        version,
        disconnectedAt: this.leader.establishedAt,
      });
    } else if (version > entry.version) Object.assign(entry, { record, version });
  }

  /** DECOMMISSIONING agents with no task left become DECOMMISSIONED. */
  async finishDecommissions(): Promise<void> {
    for (const entry of this.leader.agents.values()) {
      const r = entry.record;
      if (r.state !== 'DECOMMISSIONING' || this.leader.tasksOn(r.agentId).length > 0) continue;
      const next: AgentRecord = { ...r, state: 'DECOMMISSIONED', stateChangedAt: Date.now() };
      try {
        await this.leader.write([writeAgentOp(next, entry.version)]);
        Object.assign(entry, { record: next, version: entry.version + 1 });
      } catch (err) {
        this.leader.logger.warn({ err, agentId: r.agentId }, 'could not mark decommissioned yet');
      }
    }
  }
}

/** The record of a registration, keeping the administrative state of the stored one. */
function toAgentRecord(
  reg: Register__Output,
  stored: AgentRecord | undefined,
  now: number,
): AgentRecord {
  return {
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
    state: stored?.state ?? 'ACTIVE',
    registeredAt: now,
    stateChangedAt: stored?.stateChangedAt ?? now,
    version: reg.version,
  };
}

/** Tasks that must leave their agent because it is being decommissioned. */
export function tasksToEvacuate(leader: TaskLeaderContext): Task[] {
  const out: Task[] = [];
  for (const entry of leader.agents.values()) {
    if (entry.record.state === 'DECOMMISSIONING') out.push(...leader.tasksOn(entry.record.agentId));
  }
  return out;
}
