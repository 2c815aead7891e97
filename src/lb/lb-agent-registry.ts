import type { Logger } from 'pino';
import { LbError } from './lb-error.js';
import { type Coordinator, type ZkOp, zkPaths } from '../coordination/index.js';
import type { FencedWriter } from '../leader/index.js';
import type { LbServiceConfig } from '../gen/thales/v1/LbServiceConfig.js';
import type { LbAgentSession } from './lb-agent-session.js';
import { LB_GROUPS_DIR } from './lb-request-store.js';

/** How long an agent may take to apply the full state of its group. */
const BOOTSTRAP_TIMEOUT_MS = 60_000;

/** What the registry needs from the manager. */
export interface LbAgentRegistryHooks {
  servicesForGroup(group: string): LbServiceConfig[];
  onJoined(): void;
  writer(): FencedWriter | undefined;
}

/**
 * The lb-agents connected to this leader. An agent joins its group only after it has applied
 * the full state of the group (so it never serves half a config); joining makes the group
 * known (`/lb/groups/<g>`, persistent) and registers the agent
 * (`/lb/groups/<g>/agents/<id>`, ephemeral, written through the fenced writer).
 */
export class LbAgentRegistry {
  private readonly sessions = new Map<string, LbAgentSession>();
  private groups = new Set<string>();

  constructor(
    private readonly zk: Coordinator,
    private readonly log: Logger,
    private readonly hooks: LbAgentRegistryHooks,
  ) {}

  /** Groups that have or had lb-agents. */
  get knownGroups(): ReadonlySet<string> {
    return this.groups;
  }

  /** Replaces the known groups (read from ZooKeeper when leadership starts). */
  setKnownGroups(groups: readonly string[]): void {
    this.groups = new Set(groups);
  }

  /** A connected agent by id. */
  get(agentId: string): LbAgentSession | undefined {
    return this.sessions.get(agentId);
  }

  /** Every connected agent (joined or bootstrapping). */
  all(): LbAgentSession[] {
    return [...this.sessions.values()];
  }

  /** Joined agents by group, sorted by id. */
  joinedByGroup(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const s of this.sessions.values()) {
      if (!s.joined || !s.open) continue;
      out.set(s.group, [...(out.get(s.group) ?? []), s.agentId].sort());
    }
    return out;
  }

  /**
   * Bootstraps a new agent: sends the full state of its group, waits for its ACK, then
   * registers it. A NACK or timeout ends the stream; the agent reconnects and tries again.
   */
  async join(session: LbAgentSession): Promise<void> {
    if (!this.hooks.writer()) throw new LbError('NOT_LEADER', 'not the leader');
    this.sessions.get(session.agentId)?.close('replaced by a newer connection');
    this.sessions.set(session.agentId, session);
    const services = this.hooks.servicesForGroup(session.group);
    const { answer } = session.push({ full: true, services, noValidate: false, noReload: false });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>(
      (r) => (timer = setTimeout(() => r(null), BOOTSTRAP_TIMEOUT_MS)),
    );
    const ack = await Promise.race([answer, timeout]);
    clearTimeout(timer);
    if (!ack?.ok) {
      const why = ack ? ack.error : 'timed out';
      this.log.warn({ agentId: session.agentId, why }, 'lb-agent bootstrap failed');
      this.leave(session);
      session.close(`bootstrap failed: ${why}`);
      return;
    }
    await this.register(session);
    if (!session.open || this.sessions.get(session.agentId) !== session) return;
    session.joined = true;
    this.groups.add(session.group);
    this.log.info(
      { agentId: session.agentId, group: session.group, services: services.length },
      'lb-agent joined',
    );
    this.hooks.onJoined();
  }

  /** Forgets an agent whose stream ended and removes its registration. */
  leave(session: LbAgentSession): void {
    session.onClosed();
    if (this.sessions.get(session.agentId) !== session) return;
    this.sessions.delete(session.agentId);
    const writer = this.hooks.writer();
    if (!writer || !session.joined) return;
    const path = `${zkPaths.lbGroupAgentsDir(session.group)}/${session.agentId}`;
    writer.write([{ op: 'remove', path, version: -1 }]).catch((err: unknown) => {
      this.log.debug({ err, path }, 'lb-agent registration already gone');
    });
  }

  /** Ends every stream (leadership lost): agents reconnect to the next leader. */
  closeAll(reason: string): void {
    for (const s of this.sessions.values()) s.close(reason);
    this.sessions.clear();
  }

  private async register(session: LbAgentSession): Promise<void> {
    const writer = this.hooks.writer();
    if (!writer) throw new LbError('NOT_LEADER', 'not the leader');
    const dir = zkPaths.lbGroupAgentsDir(session.group);
    const path = `${dir}/${session.agentId}`;
    const ops: ZkOp[] = [];
    if (!(await this.zk.exists(`${LB_GROUPS_DIR}/${session.group}`))) {
      ops.push({ op: 'create', path: `${LB_GROUPS_DIR}/${session.group}`, data: Buffer.alloc(0) });
    }
    if (!(await this.zk.exists(dir))) ops.push({ op: 'create', path: dir, data: Buffer.alloc(0) });
    else if (await this.zk.exists(path)) ops.push({ op: 'remove', path, version: -1 });
    const data = Buffer.from(JSON.stringify({ agentId: session.agentId, joinedAt: Date.now() }));
    ops.push({ op: 'create', path, data, mode: 'ephemeral' });
    await writer.write(ops);
  }
}
