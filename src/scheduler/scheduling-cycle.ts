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
  type RequestStore,
  agentRecordSchema,
  statePaths,
} from '../state/index.js';
import { tasksToEvacuate } from './agent-registrar.js';
import type { DesiredStateSource } from './desired-state.js';
import { drainKillIntents } from './kill-intents.js';
import { type LaunchIntent, type Plan, instanceKey, planReconcile } from './reconcile-plan.js';
import { liftCooldowns, promoteDeploy, removeRequest } from './request-transitions.js';
import type { SchedulerMetrics } from './scheduler-metrics.js';
import type { LaunchContext } from './task-launcher.js';
import type { TaskLeadership } from './task-leadership.js';

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
  const { leader, registrar } = leadership;
  const startedAt = Date.now();
  // First, and before any ZooKeeper read that could fail the cycle: it needs only memory.
  await leadership.reconciler.reconcileConnected();
  adoptAgentChanges(leadership, deps.metrics);
  const adoptedAt = Date.now();
  leadership.requests = await deps.desired.load(leader);
  const loadedAt = Date.now();
  await drainKillIntents(leader, deps.intents, leadership.kills);
  await registrar.checkLost();
  await liftCooldowns(leader, deps.requests, leadership.requests, (since) =>
    leadership.crashBackoff.cooldownEnds(leadership.cooldownSince.get(since.rid) ?? since.at),
  );
  const deploying = await leadership.deployDriver.run(leadership.requests);
  const plan = planFor(leadership, deploying.owned);
  plan.launch.push(...withoutBackoff(leadership, deploying.launch));
  await carryOut(leadership, plan, deps);
  // After every kill of the cycle was decided: held ones go once out of the load balancer.
  await leadership.lbFollower.run(deploying.owned);
  if (plan.launch.length === 0 || !leader.active) return;
  const launchContext: LaunchContext = {
    request: (rid) => leadership.requests.get(rid)?.record,
    deploy: (rid, did) => leader.deploys.get(`${rid}/${did}`),
  };
  leader.logger.info(
    {
      adoptMs: adoptedAt - startedAt,
      desiredMs: loadedAt - adoptedAt,
      prepMs: Date.now() - startedAt,
      launch: plan.launch.length,
    },
    'cycle prepared launches',
  );
  await leadership.launcher.launch(plan.launch, launchContext);
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

/** The pure plan over this leadership's snapshot (deploys in progress excepted). */
function planFor(leadership: TaskLeadership, deploying: ReadonlySet<string>): Plan {
  const { leader, kills } = leadership;
  return planReconcile({
    requests: [...leadership.requests.values()],
    tasks: [...leader.tasks.values()].map((t) => ({
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
}

/** Everything but the launches: kills, promotions, removals, finished decommissions. */
async function carryOut(leadership: TaskLeadership, plan: Plan, deps: CycleDeps): Promise<void> {
  const { leader, kills } = leadership;
  for (const k of plan.kill) kills.send(k.taskId, k.reason);
  for (const t of tasksToEvacuate(leader)) {
    if (!kills.isKilling(t.taskId)) kills.send(t.taskId, 'agent decommissioning');
  }
  kills.resendDue();
  for (const p of plan.promote) {
    await promoteDeploy(leader, leadership.requests, p.requestId, p.deployId);
  }
  for (const rid of plan.remove) {
    await removeRequest(leader, deps.requests, deps.deploys, leadership.requests, rid);
  }
  await leadership.registrar.finishDecommissions();
}

/**
 * Admin state changes (freeze, decommission, activate) seen by the agents cache. A znode that
 * does not decode is skipped, counted each cycle it is seen, and logged once per version.
 */
function adoptAgentChanges(leadership: TaskLeadership, metrics: SchedulerMetrics): void {
  const cache = leadership.caches.agents;
  for (const [name, node] of cache.children(statePaths.agentsDir)) {
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
