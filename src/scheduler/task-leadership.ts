/**
 * One leadership's parts, built on establishLeadership from ZooKeeper and dropped whole on
 * revokeLeadership: the leader's in-memory state, the status writer, the agent registrar
 * and reconciler, the launcher, kills, crash back-off, the watched caches that trigger cycles, and the last
 * cycle's view of the desired state.
 */
import type { Logger } from 'pino';
import { type Coordinator, TreeCache } from '../coordination/index.js';
import type { FencedWriter } from '../leader/index.js';
import type { OfferMatcherPool } from '../offers/index.js';
import {
  type AgentStore,
  type DeployStore,
  type Task,
  type TaskStore,
  type WatchedState,
  statePaths,
} from '../state/index.js';
import { AgentReconciler } from './agent-reconciler.js';
import { AgentRegistrar } from './agent-registrar.js';
import { CrashBackoff } from './crash-backoff.js';
import { DeployDriver } from './deploy-driver.js';
import { cachedDeployIntents } from './deploy-intent-source.js';
import { KillSender } from './kill-policy.js';
import { killRecorder } from './kill-record.js';
import { LbFollower } from './lb-follower.js';
import type { SchedulerLoadBalancer } from './load-balancer-gateway.js';
import type { PlanRequest } from './reconcile-plan.js';
import type { SchedulerMetrics } from './scheduler-metrics.js';
import { StatusWriter } from './status-writer.js';
import { TaskLauncher } from './task-launcher.js';
import { TaskLeaderContext, type TaskLeaderOptions } from './task-leader-context.js';

/**
 * The leadership's own watched caches whose changes start a cycle (requests and deploys come
 * from the replica's {@link WatchedState}, which outlives leaderships).
 */
export interface LeaderCaches {
  /** `/intents/kill-task/*`: drained each cycle from memory. */
  killIntents: TreeCache;
  /** Bounce intents: which requests bounce, without a read per cycle. */
  bounceIntents: TreeCache;
  /** Deploy cancel and advance intents, read by the deploy driver from memory. */
  cancelIntents: TreeCache;
  advanceIntents: TreeCache;
  /** `/agents/*`: admin state changes (freeze, decommission) adopted each cycle. */
  agents: TreeCache;
}

/** Everything one leadership holds. */
export interface TaskLeadership {
  readonly leader: TaskLeaderContext;
  readonly statusWriter: StatusWriter;
  readonly registrar: AgentRegistrar;
  readonly reconciler: AgentReconciler;
  readonly launcher: TaskLauncher;
  readonly kills: KillSender;
  readonly crashBackoff: CrashBackoff;
  readonly deployDriver: DeployDriver;
  readonly lbFollower: LbFollower;
  /** Unsubscribes from the load balancer's changes. */
  readonly unwatchLb: () => void;
  readonly caches: LeaderCaches;
  readonly tick: NodeJS.Timeout;
  /** Desired state as the last cycle loaded it. */
  requests: Map<string, PlanRequest>;
  /** Requests to plan again next cycle whatever changes (launches not placed yet). */
  readonly carried: Set<string>;
  /** When the last cycle that planned every request ran (a periodic full plan). */
  lastFullPlanAt: number;
  /** When the last cycle planned. */
  lastCycleAt: number;
  /** Stops following the watched state. */
  readonly unfollow: () => void;
  /** requestId → when this leader put it in cooldown. */
  readonly cooldownSince: Map<string, number>;
  /** `path@version` of znodes already reported undecodable (logged once, counted each time). */
  readonly undecodable: Set<string>;
}

/** What building a leadership needs. */
export interface TaskLeadershipDeps {
  zk: Coordinator;
  writer: FencedWriter;
  options: TaskLeaderOptions;
  logger: Logger;
  pool: OfferMatcherPool | undefined;
  metrics: SchedulerMetrics;
  stores: { tasks: TaskStore; agents: AgentStore; deploys: DeployStore };
  /** The replica's watched desired state (a change starts a cycle). */
  state: WatchedState;
  /** A task's end was persisted. */
  onTaskEnded: (task: Task) => void;
  /** A task's change was persisted. */
  onTaskChanged: (task: Task) => void;
  /** Something changed that a cycle should look at. */
  requestCycle: () => void;
  /** The load balancer's view for the deploy driver (none without the LB extension). */
  loadBalancer: () => SchedulerLoadBalancer | undefined;
}

/**
 * Builds a leadership: actual state (active tasks, agents) straight from ZooKeeper, then the
 * caches and the tick that start cycles. The caller has made sure the state dirs exist.
 */
export async function startTaskLeadership(deps: TaskLeadershipDeps): Promise<TaskLeadership> {
  const leader = new TaskLeaderContext(deps.zk, deps.writer, deps.options, deps.logger);
  const statusWriter = new StatusWriter(leader, deps.onTaskEnded, deps.onTaskChanged);
  const kills = new KillSender(leader, killRecorder(leader));
  const reconciler = new AgentReconciler(leader, statusWriter, kills, (rid, did) =>
    deployOf(leader, deps.state, deps.stores.deploys, rid, did),
  );
  const registrar = new AgentRegistrar(leader, statusWriter, reconciler);
  const [activeTasks, agents] = await Promise.all([
    deps.stores.tasks.allActive(),
    deps.stores.agents.list(),
  ]);
  for (const t of activeTasks) leader.tasks.set(t.taskId, t);
  const now = Date.now();
  for (const a of agents) {
    leader.agents.set(a.value.agentId, {
      record: a.value,
      version: a.version,
      disconnectedAt: now,
    });
  }
  const caches: LeaderCaches = {
    killIntents: new TreeCache(deps.zk, statePaths.intentsDir('kill-task'), 1),
    agents: new TreeCache(deps.zk, statePaths.agentsDir, 1),
    bounceIntents: new TreeCache(deps.zk, statePaths.intentsDir('bounce'), 1),
    cancelIntents: new TreeCache(deps.zk, statePaths.intentsDir('deploy-cancel'), 1),
    advanceIntents: new TreeCache(deps.zk, statePaths.intentsDir('deploy-advance'), 1),
  };
  for (const c of Object.values(caches)) c.on('change', deps.requestCycle);
  const onDesiredChange = (): void => deps.requestCycle();
  deps.state.on('request', onDesiredChange);
  const leadership: TaskLeadership = {
    leader,
    statusWriter,
    registrar,
    launcher: new TaskLauncher(leader, deps.pool, deps.metrics),
    kills,
    reconciler,
    crashBackoff: new CrashBackoff(),
    deployDriver: new DeployDriver(
      leader,
      kills,
      deps.stores.deploys,
      deps.loadBalancer,
      deps.requestCycle,
      cachedDeployIntents({
        bounce: caches.bounceIntents,
        cancel: caches.cancelIntents,
        advance: caches.advanceIntents,
      }),
    ),
    lbFollower: new LbFollower(
      leader,
      () => leadership.requests,
      kills,
      deps.loadBalancer,
      deps.requestCycle,
    ),
    unwatchLb: deps.loadBalancer()?.onChange(deps.requestCycle) ?? (() => undefined),
    caches,
    tick: setInterval(deps.requestCycle, deps.options.tickMs),
    requests: new Map(),
    carried: new Set(),
    lastFullPlanAt: 0,
    lastCycleAt: 0,
    unfollow: () => deps.state.off('request', onDesiredChange),
    cooldownSince: new Map(),
    undecodable: new Set(),
  };
  reconciler.orphanHold = (agentId) => leadership.lbFollower.mayRouteToAgent(agentId);
  for (const c of Object.values(caches)) c.start();
  return leadership;
}

/** Stops a leadership at once: no more cycles, writes, or commands; streams closed. */
export function stopTaskLeadership(leadership: TaskLeadership): void {
  leadership.leader.revoked = true;
  clearInterval(leadership.tick);
  leadership.unfollow();
  leadership.deployDriver.stop();
  leadership.unwatchLb();
  for (const c of Object.values(leadership.caches)) c.stop();
  leadership.statusWriter.stop();
  for (const a of leadership.leader.agents.values()) a.session?.close();
}

/**
 * The deploy of a task: from the leader's map, the watched state, or (not cached yet) read
 * from ZooKeeper; deploys never change once stored.
 */
async function deployOf(
  leader: TaskLeaderContext,
  state: WatchedState,
  deploys: DeployStore,
  requestId: string,
  deployId: string,
) {
  const key = `${requestId}/${deployId}`;
  const cached =
    leader.deploys.get(key) ??
    state.findDeploy(requestId, deployId) ??
    (await deploys.find(requestId, deployId)) ??
    undefined;
  if (cached) leader.deploys.set(key, cached);
  return cached;
}
