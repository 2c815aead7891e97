/**
 * The task leader (a LeaderService) and its lifecycle: on establishLeadership it builds a
 * leadership from ZooKeeper (task-leadership.ts), accepts agent streams, and runs scheduling
 * cycles (scheduling-cycle.ts) when something changes and on a tick. Every write is fenced;
 * the leadership is dropped whole on revokeLeadership.
 */
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Coordinator } from '../coordination/index.js';
import type { ScheduledTaskView } from '../api/index.js';
import type { AgentMessage__Output } from '../gen/thales/v1/AgentMessage.js';
import type { FencedWriter, LeaderService } from '../leader/index.js';
import { OfferMatcherPool } from '../offers/index.js';
import {
  AgentStore,
  DeployStore,
  IntentStore,
  RequestStore,
  type Task,
  TaskStore,
  type WatchedState,
  ensureStateDirs,
  isLongRunning,
} from '../state/index.js';
import type { AgentCall, AgentSession } from './agent-session.js';
import type { SchedulerLoadBalancer } from './load-balancer-gateway.js';
import { CycleRunner } from './cycle-runner.js';
import { CachedDesiredState } from './desired-state.js';
import { setRequestState } from './request-transitions.js';
import { makeSchedulerMetrics, type SchedulerMetrics } from './scheduler-metrics.js';
import { type CycleDeps, runSchedulingCycle } from './scheduling-cycle.js';
import { listScheduled } from './scheduled-tasks.js';
import { TaskEvents } from './task-events.js';
import type { TaskLeaderOptions } from './task-leader-context.js';
import { type TaskLeadership, startTaskLeadership, stopTaskLeadership } from './task-leadership.js';

/** The leader-only task scheduler. */
export class TaskScheduler implements LeaderService {
  readonly name = 'task-scheduler';
  readonly events = new TaskEvents();
  private leadership: TaskLeadership | undefined;
  private pool: OfferMatcherPool | undefined;
  private dirsReady: Promise<void> | undefined;
  private readonly metrics: SchedulerMetrics;
  private readonly stores: {
    requests: RequestStore;
    deploys: DeployStore;
    tasks: TaskStore;
    agents: AgentStore;
    intents: IntentStore;
  };
  private readonly cycleDeps: CycleDeps;
  private readonly cycles: CycleRunner;

  constructor(
    private readonly zk: Coordinator,
    /** The replica's watched desired state (started by the replica, shared with the API). */
    private readonly state: WatchedState,
    private readonly options: TaskLeaderOptions,
    private readonly logger: Logger,
    registry: Registry = new Registry(),
    /** The load balancer the deploy driver and kill paths use (none: no LB extension). */
    private readonly loadBalancer: () => SchedulerLoadBalancer | undefined = () => undefined,
  ) {
    this.metrics = makeSchedulerMetrics(registry);
    const requests = new RequestStore(zk);
    const deploys = new DeployStore(zk, requests);
    this.stores = {
      requests,
      deploys,
      tasks: new TaskStore(zk),
      agents: new AgentStore(zk),
      intents: new IntentStore(zk),
    };
    this.cycleDeps = {
      desired: new CachedDesiredState(state),
      requests,
      deploys,
      intents: this.stores.intents,
      metrics: this.metrics,
    };
    this.cycles = new CycleRunner(
      () => this.runCycle(),
      (err) =>
        this.leadership?.leader.logger.warn(
          { err },
          'scheduling cycle failed; retrying on the next tick',
        ),
    );
    zk.on('session', () => {
      this.dirsReady = undefined;
      this.stateDirs().catch((err: unknown) =>
        logger.warn({ err }, 'state directories not ready yet; the next leadership retries'),
      );
    });
  }

  /** The term when leading and connected (agents may attach), else undefined. */
  get acceptingTerm(): number | undefined {
    const leader = this.leadership?.leader;
    return leader?.active ? leader.term : undefined;
  }

  /** What the last cycle left pending, oldest first (undefined when not leading). */
  scheduledTasks(): ScheduledTaskView[] | undefined {
    const leadership = this.leadership;
    return leadership ? listScheduled(leadership.launcher.scheduled) : undefined;
  }

  /** Whether an agent holds a stream to this leader (undefined when not leading). */
  connectivity(agentId: string): boolean | undefined {
    return this.leadership ? this.leadership.leader.connected(agentId) : undefined;
  }

  async establishLeadership(term: number, writer: FencedWriter): Promise<void> {
    const logger = this.logger.child({ component: 'task-scheduler', term });
    // Kept across leaderships: starting threads is on the takeover path, and stopping them
    // would hold a revoke (and so the step-down's latch deletion) for as long as they take.
    this.pool ??= makePool(this.options.matcherThreads, logger);
    await this.stateDirs();
    this.leadership = await startTaskLeadership({
      zk: this.zk,
      writer,
      options: this.options,
      logger,
      pool: this.pool,
      metrics: this.metrics,
      stores: this.stores,
      state: this.state,
      onTaskEnded: (t) => this.onTaskEnded(t),
      onTaskChanged: (t) => this.onTaskChanged(t),
      requestCycle: () => this.requestCycle(),
      loadBalancer: this.loadBalancer,
    });
    const { leader } = this.leadership;
    logger.info(
      { tasks: leader.tasks.size, agents: leader.agents.size },
      'task leader rebuilt from ZooKeeper',
    );
    this.requestCycle();
  }

  revokeLeadership(): void {
    const leadership = this.leadership;
    this.leadership = undefined;
    if (!leadership) return;
    stopTaskLeadership(leadership);
    this.events.emit('revoked');
  }

  /** Stops the matcher threads (replica shutdown; a revoke keeps them for the next term). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  pause(): void {
    if (this.leadership) this.leadership.leader.paused = true;
  }

  resume(): void {
    if (!this.leadership) return;
    this.leadership.leader.paused = false;
    this.requestCycle();
  }

  /** A registering agent's stream (the endpoint checked that this replica leads). */
  async attachAgent(call: AgentCall, first: AgentMessage__Output): Promise<AgentSession | null> {
    const leadership = this.leadership;
    if (!leadership || !first.register) return null;
    const session = await leadership.registrar.attach(first.register, call);
    if (session) this.requestCycle();
    return session;
  }

  /** A message on an attached stream. */
  onAgentMessage(session: AgentSession, msg: AgentMessage__Output): void {
    const leadership = this.leadership;
    if (!leadership || session.term !== leadership.leader.term) return;
    session.lastHeartbeatAt = Date.now();
    if (!msg.status) return;
    session.noteReported(msg.status.taskId, msg.status.state);
    leadership.statusWriter.fromAgent(session, msg.status);
    // A task this agent runs but the cluster does not hold active here: reconcile soon.
    if (leadership.leader.tasks.get(msg.status.taskId)?.agentId !== session.agentId) {
      this.requestCycle();
    }
  }

  /** An attached stream ended. */
  detachAgent(session: AgentSession): void {
    const leadership = this.leadership;
    if (leadership && session.term === leadership.leader.term) {
      leadership.registrar.detach(session);
    }
  }

  /** Asks for a scheduling cycle soon (coalesced). */
  requestCycle(): void {
    if (this.leadership) this.cycles.request();
  }

  private async runCycle(): Promise<boolean> {
    const leadership = this.leadership;
    if (!leadership?.leader.active) return false;
    await runSchedulingCycle(leadership, this.cycleDeps);
    return true;
  }

  /**
   * The state directories, created once per session while still a follower, so a takeover
   * does not spend its first ZooKeeper round trips (dozens of serial mkdirs) on them.
   */
  private stateDirs(): Promise<void> {
    this.dirsReady ??= ensureStateDirs(this.zk).catch((err: unknown) => {
      this.dirsReady = undefined;
      throw err;
    });
    return this.dirsReady;
  }

  private onTaskChanged(t: Task): void {
    this.events.emitTask(t);
    if (t.state === 'TASK_RUNNING') {
      this.leadership?.crashBackoff.recovered(t.requestId, t.instanceNo);
      this.requestCycle();
    }
  }

  /** A task ended: crash back-off for long-running requests, then a new cycle replaces it. */
  private onTaskEnded(t: Task): void {
    const leadership = this.leadership;
    if (!leadership) return;
    const { leader } = leadership;
    leader.killsSent.delete(t.taskId);
    leadership.deployDriver.noteEnded(t);
    const record = leadership.requests.get(t.requestId)?.record;
    const crashed = (t.state === 'TASK_FAILED' || t.state === 'TASK_FINISHED') && !t.killReason;
    if (record && isLongRunning(record.request.requestType) && record.state === 'ACTIVE') {
      const now = Date.now();
      if (leadership.crashBackoff.record(t.requestId, t.instanceNo, crashed, now)) {
        leadership.cooldownSince.set(t.requestId, now);
        const why = `tasks crash-looping (last: ${t.taskId})`;
        setRequestState(leader, this.stores.requests, t.requestId, 'SYSTEM_COOLDOWN', why).catch(
          (err: unknown) => leader.logger.warn({ err }, 'could not enter cooldown'),
        );
      }
    }
    this.requestCycle();
  }
}

/** The matcher pool, when its worker is built (tests from sources without a build use none). */
function makePool(threads: number, logger: Logger): OfferMatcherPool | undefined {
  try {
    return new OfferMatcherPool({ threads });
  } catch (err) {
    logger.warn({ err }, 'offer matcher pool unavailable; matching on the main thread');
    return undefined;
  }
}
