/**
 * One scheduling cycle, in order: reconcile connected agents, adopt agents' admin changes,
 * load the desired state, drain kill intents, lost agents, lift cooldowns, then the pure plan
 * (reconcile-plan.ts) carried out: kills (and decommission evacuations, and re-sends),
 * deploy promotions, request removals, decommissions finished, launches.
 */
import { decodeJson } from '../coordination/index.js';
import {
  type DeployStore,
  type IntentStore,
  type KillCause,
  type RequestStore,
  agentRecordSchema,
  statePaths,
} from '../state/index.js';
import { tasksToEvacuate } from './agent-registrar.js';
import { type CycleScope, cycleScope } from './cycle-scope.js';
import type { DesiredStateSource } from './desired-state.js';
import { type EvacuationTask, planEvacuation } from './evacuate-plan.js';
import { cachedKillIntents, drainKillIntents } from './kill-intents.js';
import { type LaunchIntent, type Plan, instanceKey, planReconcile } from './reconcile-plan.js';
import { liftCooldowns, promoteDeploy, removeRequest } from './request-transitions.js';
import type { SchedulerMetrics } from './scheduler-metrics.js';
import type { LaunchContext } from './task-launcher.js';
import type { TaskLeadership } from './task-leadership.js';

/**
 * How often a cycle plans every request even when nothing says it changed: a net under the
 * incremental scope (cycle-scope.ts), cheap since it reads memory only.
 */
const FULL_PLAN_EVERY_MS = 30_000;

const DECOMMISSIONING: KillCause = {
  cleanupType: 'DECOMMISSIONING',
  message: 'agent decommissioning',
};

/** What a cycle reads and writes through, besides the leadership itself. */
export interface CycleDeps {
  desired: DesiredStateSource;
  requests: RequestStore;
  deploys: DeployStore;
  intents: IntentStore;
  metrics: SchedulerMetrics;
}

/** Runs one cycle for `leadership`. */
export async function runSchedulingCycle(
  leadership: TaskLeadership,
  deps: CycleDeps,
): Promise<void> {
  try {
    await runCycle(leadership, deps);
  } catch (err) {
    // What this cycle took as changed may not have been acted on: the next one plans all.
    leadership.lastFullPlanAt = 0;
    throw err;
  }
}

async function runCycle(leadership: TaskLeadership, deps: CycleDeps): Promise<void> {
  const { leader, registrar } = leadership;
  const startedAt = Date.now();
  // First, and before any ZooKeeper read that could fail the cycle: it needs only memory.
  await leadership.reconciler.reconcileConnected();
  adoptAgentChanges(leadership, deps.metrics);
  const adoptedAt = Date.now();
  leadership.requests = await deps.desired.load(leader);
  const loadedAt = Date.now();
  await drainKillIntents(
    leader,
    cachedKillIntents(leadership.caches.killIntents),
    leadership.kills,
  );
  await registrar.checkLost();
  await liftCooldowns(leader, deps.requests, leadership.requests, (since) =>
    leadership.crashBackoff.cooldownEnds(leadership.cooldownSince.get(since.rid) ?? since.at),
  );
  const checkedAt = Date.now();
  const deploying = await leadership.deployDriver.run(leadership.requests);
  const deployedAt = Date.now();
  const plan = planFor(
    leadership,
    scopeOf(leadership, deps.desired.changed, startedAt),
    deps.metrics,
    deploying.owned,
  );
  plan.launch.push(...withoutBackoff(leadership, deploying.launch));
  const plannedAt = Date.now();
  await carryOut(leadership, plan, deps);
  const carriedAt = Date.now();
  // After every kill of the cycle was decided: held ones go once out of the load balancer.
  await leadership.lbFollower.run(deploying.owned);
  if (plan.launch.length > 0) {
    if (!leader.active) return;
    leader.logger.info(
      {
        adoptMs: adoptedAt - startedAt,
        desiredMs: loadedAt - adoptedAt,
        // intents, lost agents and cooldowns; deploy passes; the plan; kills and promotions
        checksMs: checkedAt - loadedAt,
        deploysMs: deployedAt - checkedAt,
        planMs: plannedAt - deployedAt,
        carryMs: carriedAt - plannedAt,
        prepMs: Date.now() - startedAt,
        launch: plan.launch.length,
      },
      'cycle prepared launches',
    );
  }
  const launchContext: LaunchContext = {
    request: (rid) => leadership.requests.get(rid)?.record,
    deploy: (rid, did) => leader.deploys.get(`${rid}/${did}`),
  };
  // Also with nothing to launch: the launcher then clears its board of pending instances.
  await leadership.launcher.launch(plan.launch, launchContext);
}

/** The requests this cycle plans (and the leadership's notes of it). */
function scopeOf(
  leadership: TaskLeadership,
  desiredChanged: ReadonlySet<string> | 'all',
  now: number,
): CycleScope {
  const scope = cycleScope({
    desiredChanged,
    tasksChanged: leadership.leader.tasks.takeChangedRequests(),
    carried: leadership.carried,
    notBefore: leadership.crashBackoff.notBefore,
    lastCycleAt: leadership.lastCycleAt,
    lastFullPlanAt: leadership.lastFullPlanAt,
    fullPlanEveryMs: FULL_PLAN_EVERY_MS,
    now,
  });
  leadership.lastCycleAt = now;
  if (scope === 'all') leadership.lastFullPlanAt = now;
  return scope;
}

/**
 * Deploy launches of instances still in crash back-off wait, and a request in cooldown
 * launches nothing (as the plan's own launches).
 */
function withoutBackoff(leadership: TaskLeadership, launch: LaunchIntent[]): LaunchIntent[] {
  const now = Date.now();
  const { notBefore } = leadership.crashBackoff;
  return launch.filter(
    (l) =>
      leadership.requests.get(l.requestId)?.record.state !== 'SYSTEM_COOLDOWN' &&
      (notBefore.get(instanceKey(l.requestId, l.instanceNo)) ?? 0) <= now,
  );
}

/**
 * The pure plan over this leadership's snapshot, for the requests in `scope` (deploys in
 * progress excepted: the deploy driver owns those).
 */
function planFor(
  leadership: TaskLeadership,
  scope: CycleScope,
  metrics: SchedulerMetrics,
  deploying: ReadonlySet<string>,
): Plan {
  const { leader, kills } = leadership;
  const requests =
    scope === 'all'
      ? [...leadership.requests.values()]
      : [...scope].flatMap((rid) => leadership.requests.get(rid) ?? []);
  const tasks =
    scope === 'all'
      ? [...leader.tasks.values()]
      : [...scope].flatMap((rid) => leader.tasks.ofRequest(rid));
  const plan = planReconcile({
    requests,
    tasks: tasks.map((t) => ({
      taskId: t.taskId,
      requestId: t.requestId,
      deployId: t.deployId,
      instanceNo: t.instanceNo,
      state: t.state,
      killing: kills.isKilling(t.taskId),
    })),
    notBefore: leadership.crashBackoff.notBefore,
    now: Date.now(),
    deploying,
  });
  leadership.carried.clear();
  for (const l of plan.launch) leadership.carried.add(l.requestId);
  metrics.cycles.inc({ scope: scope === 'all' ? 'all' : 'changed' });
  metrics.plannedRequests.inc(requests.length);
  return plan;
}

/** Everything but the launches: kills, promotions, removals, finished decommissions. */
async function carryOut(leadership: TaskLeadership, plan: Plan, deps: CycleDeps): Promise<void> {
  const { leader, kills } = leadership;
  for (const k of plan.kill) {
    // A request changed since the plan read it (a scale-up meanwhile): the next cycle decides.
    const rid = leader.tasks.get(k.taskId)?.requestId;
    if (rid !== undefined && deps.desired.stillCurrent?.(rid) === false) continue;
    kills.send(k.taskId, k.cause);
  }
  for (const taskId of evacuateNow(leadership)) kills.send(taskId, DECOMMISSIONING);
  kills.resendDue();
  for (const p of plan.promote) {
    await promoteDeploy(leader, leadership.requests, p.requestId, p.deployId);
  }
  for (const rid of plan.remove) {
    // Its load-balancer service goes first (the deploys that name it go with the request).
    const r = leadership.requests.get(rid);
    if (r && !(await leadership.lbFollower.serviceRemoved(r))) {
      leadership.carried.add(rid); // planned again next cycle, changed or not
      continue;
    }
    await removeRequest(leader, deps.requests, deps.deploys, leadership.requests, rid);
  }
  await leadership.registrar.finishDecommissions();
}

/** The tasks of decommissioning agents to move now (evacuate-plan.ts), from memory. */
function evacuateNow(leadership: TaskLeadership): string[] {
  const { leader, kills, lbFollower } = leadership;
  const leavingTasks = tasksToEvacuate(leader);
  if (leavingTasks.length === 0) return [];
  const leaving = new Set(leavingTasks.map((t) => t.taskId));
  const tasks: EvacuationTask[] = [];
  for (const rid of new Set(leavingTasks.map((t) => t.requestId))) {
    const ofRequest = leader.tasks.ofRequest(rid);
    const inLb = lbFollower.inLoadBalancer(rid, ofRequest);
    for (const t of ofRequest) {
      const running = t.state === 'TASK_RUNNING';
      tasks.push({
        taskId: t.taskId,
        requestId: rid,
        leaving: leaving.has(t.taskId),
        killing: kills.isKilling(t.taskId),
        serving: running && (inLb ? inLb.has(t.taskId) : t.health?.status !== 'UNHEALTHY'),
      });
    }
  }
  return planEvacuation(tasks);
}

/**
 * Admin state changes (freeze, decommission, activate) seen by the agents cache. A znode that
 * does not decode is skipped, counted each cycle it is seen, and logged once per version.
 */
function adoptAgentChanges(leadership: TaskLeadership, metrics: SchedulerMetrics): void {
  const cache = leadership.caches.agents;
  for (const [name, node] of cache.children(statePaths.agentsDir)) {
    // Adopting needs a newer version than the leader holds: skip decoding the others.
    const known = leadership.leader.agents.get(name);
    if (known && node.version <= known.version) continue;
    const path = statePaths.agent(name);
    try {
      leadership.registrar.adopt(decodeJson(node.data, path, agentRecordSchema), node.version);
    } catch (err) {
      metrics.decodeErrors.inc({ kind: 'agent' });
      const key = `${path}@${node.version}`;
      if (leadership.undecodable.has(key)) continue;
      leadership.undecodable.add(key);
      leadership.leader.logger.warn(
        { err, path, version: node.version },
        'agent znode undecodable; ignored',
      );
    }
  }
}
