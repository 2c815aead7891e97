/**
 * The task leader (a LeaderService): on establishLeadership it rebuilds actual state from
 * ZooKeeper (active tasks, agents), accepts agent streams, and runs the scheduling loop —
 * desired vs actual (pure plan) → kills, deploy promotions, request removals, launches. Every
 * write is fenced; all state is dropped on revokeLeadership.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type Coordinator, TreeCache, type ZkOp, decodeJson } from '../coordination/index.js';
import type { AgentMessage__Output } from '../gen/thales/v1/AgentMessage.js';
import type { FencedWriter, LeaderService } from '../leader/index.js';
import { OfferMatcherPool } from '../offers/index.js';
import { makeSchedulerMetrics, type SchedulerMetrics } from './scheduler-metrics.js';
import {
  AgentStore,
  type Deploy,
  DeployStore,
  IntentStore,
  RequestStore,
  type Task,
  TaskStore,
  agentRecordSchema,
  ensureStateDirs,
  isLongRunning,
  removeIntentOp,
  setActiveTaskOp,
  statePaths,
} from '../state/index.js';
import { AgentRegistrar, tasksToEvacuate } from './agent-registrar.js';
import type { AgentCall, AgentSession } from './agent-session.js';
import { CrashBackoff } from './crash-backoff.js';
import { type PlanRequest, planReconcile } from './reconcile-plan.js';
import {
  liftCooldowns,
  promoteDeploy,
  removeRequest,
  setRequestState,
} from './request-transitions.js';
import { StatusWriter } from './status-writer.js';
import { TaskLauncher, type LaunchContext } from './task-launcher.js';
import { type TaskLeaderOptions, TaskLeaderContext } from './task-leader-context.js';
import { TaskEvents } from './task-events.js';

/** One leadership's moving parts. */
interface Leading {
  ctx: TaskLeaderContext;
  status: StatusWriter;
  registrar: AgentRegistrar;
  launcher: TaskLauncher;
  backoff: CrashBackoff;
  caches: TreeCache[];
  timer: NodeJS.Timeout;
  requests: Map<string, PlanRequest>;
  cooldownSince: Map<string, number>;
}

/** The leader-only task scheduler. */
export class TaskScheduler implements LeaderService {
  readonly name = 'task-scheduler';
  readonly events = new TaskEvents();
  private leading: Leading | undefined;
  private cycling = false;
  private again = false;
  private pool: OfferMatcherPool | undefined;
  private readonly metrics: SchedulerMetrics | undefined;
  private readonly requests: RequestStore;
  private readonly deployStore: DeployStore;
  private readonly tasks: TaskStore;
  private readonly agents: AgentStore;
  private readonly intents: IntentStore;

  constructor(
    private readonly zk: Coordinator,
    private readonly options: TaskLeaderOptions,
    private readonly logger: Logger,
    registry?: Registry,
  ) {
    this.metrics = registry ? makeSchedulerMetrics(registry) : undefined;
    this.requests = new RequestStore(zk);
    this.deployStore = new DeployStore(zk, this.requests);
    this.tasks = new TaskStore(zk);
    this.agents = new AgentStore(zk);
    this.intents = new IntentStore(zk);
  }

  /** The term when leading and connected (agents may attach), else undefined. */
  get acceptingTerm(): number | undefined {
    const l = this.leading;
    return l && l.ctx.active ? l.ctx.term : undefined;
  }

  /** Whether an agent holds a stream to this leader (undefined when not leading). */
  connectivity(agentId: string): boolean | undefined {
    return this.leading ? this.leading.ctx.connected(agentId) : undefined;
  }

  async establishLeadership(term: number, writer: FencedWriter): Promise<void> {
    const logger = this.logger.child({ component: 'task-scheduler', term });
    const ctx = new TaskLeaderContext(this.zk, writer, this.options, logger);
    this.pool ??= makePool(logger);
    const backoff = new CrashBackoff();
    const status = new StatusWriter(
      ctx,
      (t) => this.onTaskEnded(t),
      (t) => this.onTaskChanged(t),
    );
    const registrar = new AgentRegistrar(ctx, status, async (rid, did) => {
      const key = `${rid}/${did}`;
      const cached = ctx.deploys.get(key) ?? (await this.deployStore.find(rid, did)) ?? undefined;
      if (cached) ctx.deploys.set(key, cached);
      return cached;
    });
    const launcher = new TaskLauncher(ctx, this.pool, this.metrics);
    await ensureStateDirs(this.zk);
    // Actual state first: every active task and agent, straight from ZooKeeper.
    for (const t of await this.tasks.allActive()) ctx.tasks.set(t.taskId, t);
    for (const a of await this.agents.list()) {
      ctx.agents.set(a.value.agentId, {
        record: a.value,
        version: a.version,
        disconnectedAt: Date.now(),
      });
    }
    const caches = [
      new TreeCache(this.zk, statePaths.requestsDir, 1),
      new TreeCache(this.zk, statePaths.deploysRoot, 3),
      new TreeCache(this.zk, statePaths.intentsDir('kill-task'), 1),
      new TreeCache(this.zk, statePaths.agentsDir, 1),
    ];
    for (const c of caches) c.on('change', () => this.requestCycle());
    const timer = setInterval(() => this.requestCycle(), this.options.tickMs);
    this.leading = {
      ctx,
      status,
      registrar,
      launcher,
      backoff,
      caches,
      timer,
      requests: new Map(),
      cooldownSince: new Map(),
    };
    for (const c of caches) c.start();
    logger.info(
      { tasks: ctx.tasks.size, agents: ctx.agents.size },
      'task leader rebuilt from ZooKeeper',
    );
    this.requestCycle();
  }

  async revokeLeadership(): Promise<void> {
    const l = this.leading;
    this.leading = undefined;
    if (!l) return;
    l.ctx.revoked = true;
    this.events.emit('revoked');
    clearInterval(l.timer);
    for (const c of l.caches) c.stop();
    l.status.stop();
    for (const a of l.ctx.agents.values()) a.session?.close();
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  pause(): void {
    if (this.leading) this.leading.ctx.paused = true;
  }

  resume(): void {
    if (!this.leading) return;
    this.leading.ctx.paused = false;
    this.requestCycle();
  }

  /** A registering agent's stream (the endpoint checked that this replica leads). */
  async attachAgent(call: AgentCall, first: AgentMessage__Output): Promise<AgentSession | null> {
    const l = this.leading;
    if (!l || !first.register) return null;
    const session = await l.registrar.attach(first.register, call);
    if (session) this.requestCycle();
    return session;
  }

  /** A message on an attached stream. */
  onAgentMessage(session: AgentSession, msg: AgentMessage__Output): void {
    const l = this.leading;
    if (!l || session.term !== l.ctx.term) return;
    session.lastHeartbeatAt = Date.now();
    if (msg.status) l.status.fromAgent(session, msg.status);
  }

  /** An attached stream ended. */
  detachAgent(session: AgentSession): void {
    const l = this.leading;
    if (l && session.term === l.ctx.term) l.registrar.detach(session);
  }

  /** Asks for a scheduling cycle soon (coalesced). */
  requestCycle(): void {
    if (!this.leading) return;
    if (this.cycling) {
      this.again = true;
      return;
    }
    this.cycling = true;
    setImmediate(() => void this.runCycles());
  }

  private async runCycles(): Promise<void> {
    try {
      do {
        this.again = false;
        const l = this.leading;
        if (!l || !l.ctx.active) break;
        try {
          await this.cycle(l);
        } catch (err) {
          l.ctx.logger.warn({ err }, 'scheduling cycle failed; retrying on the next tick');
        }
      } while (this.again);
    } finally {
      this.cycling = false;
    }
  }

  private async cycle(l: Leading): Promise<void> {
    const { ctx } = l;
    const t0 = Date.now();
    this.adoptAgentChanges(l);
    const t1 = Date.now();
    await this.loadDesired(l);
    const t2 = Date.now();
    await this.drainKillIntents(l);
    // A kill an earlier leadership decided (its reason persisted as its intent was removed)
    // may never have reached the agent: it is carried out here, or it dies with that leader.
    for (const t of ctx.tasks.values()) {
      if (t.killReason !== undefined && !ctx.killsSent.has(t.taskId)) {
        this.sendKill(l, t.taskId, t.killReason);
      }
    }
    await l.registrar.checkLost();
    await l.registrar.relaunchStale();
    await liftCooldowns(l.ctx, this.requests, l.requests, (since) =>
      l.backoff.cooldownEnds(l.cooldownSince.get(since.rid) ?? since.at),
    );
    const plan = planReconcile({
      requests: [...l.requests.values()],
      tasks: [...ctx.tasks.values()].map((t) => ({
        taskId: t.taskId,
        requestId: t.requestId,
        deployId: t.deployId,
        instanceNo: t.instanceNo,
        state: t.state,
        killing: ctx.killsSent.has(t.taskId),
      })),
      notBefore: l.backoff.notBefore,
      now: Date.now(),
    });
    for (const k of plan.kill) this.sendKill(l, k.taskId, k.reason);
    for (const t of tasksToEvacuate(ctx)) {
      if (!ctx.killsSent.has(t.taskId)) this.sendKill(l, t.taskId, 'agent decommissioning');
    }
    this.resendKills(l);
    for (const p of plan.promote) await promoteDeploy(l.ctx, l.requests, p.requestId, p.deployId);
    for (const rid of plan.remove)
      await removeRequest(l.ctx, this.requests, this.deployStore, l.requests, rid);
    await l.registrar.finishDecommissions();
    if (plan.launch.length > 0 && ctx.active) {
      const lc: LaunchContext = {
        request: (rid) => l.requests.get(rid)?.record,
        deploy: (rid, did) => ctx.deploys.get(`${rid}/${did}`),
      };
      ctx.logger.info(
        {
          adoptMs: t1 - t0,
          desiredMs: t2 - t1,
          prepMs: Date.now() - t0,
          launch: plan.launch.length,
        },
        'cycle prepared launches',
      );
      await l.launcher.launch(plan.launch, lc);
    }
  }

  /** Desired state, read from ZooKeeper each cycle (requests and their deploys). */
  private async loadDesired(l: Leading): Promise<void> {
    const records = await this.requests.list();
    const next = new Map<string, PlanRequest>();
    await Promise.all(
      records.map(async ({ value }) => {
        const { active, pending } = await this.deployStore.forRequest(value.request.id);
        for (const d of [active, pending]) if (d) l.ctx.deploys.set(`${d.requestId}/${d.id}`, d);
        next.set(value.request.id, { record: value, active, pending });
      }),
    );
    // Deploys of tasks still running from older deploys (for re-launch specs).
    for (const t of l.ctx.tasks.values()) {
      const key = `${t.requestId}/${t.deployId}`;
      if (!l.ctx.deploys.has(key)) {
        const d = await this.deployStore.find(t.requestId, t.deployId);
        if (d) l.ctx.deploys.set(key, d);
      }
    }
    l.requests = next;
  }

  /** Admin state changes (freeze, decommission, activate) seen by the agents cache. */
  private adoptAgentChanges(l: Leading): void {
    const cache = l.caches[3];
    if (!cache) return;
    for (const [name, node] of cache.children(statePaths.agentsDir)) {
      try {
        const rec = decodeJson(node.data, statePaths.agent(name), agentRecordSchema);
        l.registrar.adopt(rec, node.version);
      } catch {
        /* undecodable: ignored */
      }
    }
  }

  private sendKill(l: Leading, taskId: string, reason: string): void {
    const task = l.ctx.tasks.get(taskId);
    if (!task) return;
    l.ctx.killsSent.set(taskId, { at: Date.now(), reason });
    const session = l.ctx.agents.get(task.agentId)?.session;
    if (session && l.ctx.active) {
      session.send({ kill: { taskId, graceMs: this.options.killGraceMs, reason } });
    }
  }

  /** Kill is idempotent: re-send to tasks still active a while after their kill. */
  private resendKills(l: Leading): void {
    const now = Date.now();
    for (const [taskId, k] of l.ctx.killsSent) {
      if (!l.ctx.tasks.has(taskId)) l.ctx.killsSent.delete(taskId);
      else if (now - k.at > this.options.killGraceMs + 2_000) this.sendKill(l, taskId, k.reason);
    }
  }

  /** Kill intents from any replica: kill, persist the reason, remove the intent (one multi). */
  private async drainKillIntents(l: Leading): Promise<void> {
    for (const intent of await this.intents.killIntents()) {
      const task = l.ctx.tasks.get(intent.taskId);
      const ops: ZkOp[] = [removeIntentOp('kill-task', intent.taskId)];
      const reason = intent.message ?? 'killed through the API';
      if (task) ops.push(setActiveTaskOp({ ...task, killReason: reason }));
      await l.ctx.serialize(async () => {
        await l.ctx.write(ops);
        const current = l.ctx.tasks.get(intent.taskId);
        if (current) l.ctx.tasks.set(current.taskId, { ...current, killReason: reason });
      });
      if (task) this.sendKill(l, task.taskId, reason);
    }
  }

  private onTaskChanged(t: Task): void {
    this.events.emitTask(t);
    if (t.state === 'TASK_RUNNING') {
      this.leading?.backoff.recovered(t.requestId, t.instanceNo);
      this.requestCycle();
    }
  }

  /** A task ended: crash back-off for long-running requests, then a new cycle replaces it. */
  private onTaskEnded(t: Task): void {
    const l = this.leading;
    if (!l) return;
    l.ctx.killsSent.delete(t.taskId);
    const r = l.requests.get(t.requestId)?.record;
    const crashed = (t.state === 'TASK_FAILED' || t.state === 'TASK_FINISHED') && !t.killReason;
    if (r && isLongRunning(r.request.requestType) && r.state === 'ACTIVE') {
      const cool = l.backoff.record(t.requestId, t.instanceNo, crashed, Date.now());
      if (cool) {
        l.cooldownSince.set(t.requestId, Date.now());
        void setRequestState(
          l.ctx,
          this.requests,
          t.requestId,
          'SYSTEM_COOLDOWN',
          `tasks crash-looping (last: ${t.taskId})`,
        ).catch((err: unknown) => l.ctx.logger.warn({ err }, 'could not enter cooldown'));
      }
    }
    this.requestCycle();
  }
}

/** The matcher pool, when its worker is built (tests from sources without a build use none). */
function makePool(logger: Logger): OfferMatcherPool | undefined {
  try {
    return new OfferMatcherPool({ threads: 2 });
  } catch (err) {
    logger.warn({ err }, 'offer matcher pool unavailable; matching on the main thread');
    return undefined;
  }
}

export type { Deploy };
