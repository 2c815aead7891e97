/**
 * The leader's deploy driver: each cycle, for every long-running request with a pending
 * deploy, it takes the deploy up (writes its progress), builds a snapshot from memory (the
 * request's tasks, their health, where they are in the load balancer, the outcomes of the
 * deploy's LB requests), asks the pure machine (src/deploys) what to do, persists the new
 * progress (fenced) before acting, and acts: launches go back to the cycle's launcher, LB
 * requests to the gateway, kills to the kill sender, the result in one fenced multi.
 * Requests it drives are left alone by the reconcile plan.
 */
import {
  type DeployPlan,
  type DeploySnapshot,
  type DeployTaskView,
  type LbAction,
  planDeploy,
  startBounce,
  startDeploy,
} from '../deploys/index.js';
import { mapBounded } from '../runtime/index.js';
import type { ZkOp } from '../coordination/index.js';
import {
  type Deploy,
  type DeployProgress,
  type DeployStore,
  type Task,
  deploySettings,
  finishDeployOps,
  isLongRunning,
  removeIntentOp,
  writeDeployProgressOp,
} from '../state/index.js';
import { lbServiceOf, lbServiceIdOf, presenceByTask, upstreamOf } from './deploy-lb-service.js';
import type { DeployIntentSource, DeployIntentView } from './deploy-intent-source.js';
import type { KillSender } from './kill-policy.js';
import type { SchedulerLoadBalancer } from './load-balancer-gateway.js';
import type { LaunchIntent, PlanRequest } from './reconcile-plan.js';
import type { TaskLeaderContext } from './task-leader-context.js';

/** What the driver decided this cycle for the cycle to carry out. */
export interface DeployCycleResult {
  /** Requests the driver owns this cycle: the reconcile plan leaves them alone. */
  owned: Set<string>;
  launch: LaunchIntent[];
}

/** Ended tasks kept per request for failure counting (a deploy's recent ends). */
const MAX_ENDED_PER_REQUEST = 200;
/** Deploy passes in flight at once (each a few fenced round trips at most). */
const PASSES_AT_ONCE = 32;

/** Drives the deploys of one leadership (dropped with it; rebuilt from ZooKeeper). */
export class DeployDriver {
  /** requestId → progress as last written by this leadership (the only writer). */
  private readonly progress = new Map<string, DeployProgress>();
  private readonly ended = new Map<string, Task[]>();
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;

  constructor(
    private readonly leader: TaskLeaderContext,
    private readonly kills: KillSender,
    private readonly deploys: DeployStore,
    private readonly lb: () => SchedulerLoadBalancer | undefined,
    private readonly requestCycle: () => void,
    /** Bounce, cancel and advance intents (the leadership's watched copies). */
    private readonly intents: DeployIntentSource,
  ) {}

  /** A task ended: kept so the machine can count a new task's failure. */
  noteEnded(task: Task): void {
    const list = this.ended.get(task.requestId) ?? [];
    list.push(task);
    if (list.length > MAX_ENDED_PER_REQUEST) list.shift();
    this.ended.set(task.requestId, list);
  }

  /** Stops the wake-up timer (leadership revoked). */
  stop(): void {
    clearTimeout(this.wakeTimer);
    this.wakeAt = Infinity;
  }

  /** One pass over every request with a deploy in progress. */
  async run(requests: Map<string, PlanRequest>, now = Date.now()): Promise<DeployCycleResult> {
    const result: DeployCycleResult = { owned: new Set(), launch: [] };
    const intents = await this.intents.current();
    const driven: [string, PlanRequest][] = [];
    for (const [rid, r] of requests) {
      if (!this.drives(r, intents.bouncing.has(rid))) {
        this.progress.delete(rid);
        continue;
      }
      result.owned.add(rid);
      driven.push([rid, r]);
    }
    // Requests are independent (each pass reads and writes only its own), so their round
    // trips overlap: 10,000 new deploys are not 30,000 serial writes. Launches keep the
    // requests' order.
    const launches = await mapBounded(driven, PASSES_AT_ONCE, async ([rid, r]) => {
      const out: DeployCycleResult = { owned: result.owned, launch: [] };
      try {
        await this.runOne(requests, rid, r, now, out, intents);
      } catch (err) {
        this.leader.logger.warn({ err, requestId: rid }, 'deploy pass failed; retried next cycle');
      }
      return out.launch;
    });
    for (const l of launches) result.launch.push(...l);
    return result;
  }

  /** A long-running request that is ACTIVE (or in cooldown) with a pending deploy or a bounce. */
  private drives(r: PlanRequest, bouncing: boolean): boolean {
    const { state, request } = r.record;
    if (!(r.pending || (r.active && bouncing)) || !isLongRunning(request.requestType)) return false;
    return state === 'ACTIVE' || state === 'SYSTEM_COOLDOWN' || state === 'DEPLOYING_TO_UNPAUSE';
  }

  private async runOne(
    requests: Map<string, PlanRequest>,
    rid: string,
    r: PlanRequest,
    now: number,
    out: DeployCycleResult,
    cycleIntents: DeployIntentView,
  ): Promise<void> {
    const bouncing = cycleIntents.bouncing.has(rid);
    // A bounce restarts the active deploy's tasks; a pending deploy supersedes it.
    const pending = (r.pending ?? r.active) as Deploy;
    const bounce = r.pending === null;
    // A bounce's marker is its intent's time: the asker waits for that marker's result.
    const askedAt = bounce ? cycleIntents.bounceIntent(rid)?.at : undefined;
    const progress = await this.progressOf(r, pending, now, bounce, bouncing, askedAt);
    if (!progress) return;
    const lb = this.lb();
    const loadBalanced =
      r.record.request.loadBalanced === true && lbServiceOf(pending) !== undefined;
    if (loadBalanced && !lb?.ready) return; // presence unknown: decide nothing yet
    const snap = await this.snapshot(r, pending, progress, loadBalanced ? lb : undefined, now);
    // Cancel and advance intents (any replica writes them); consumed in the multi below.
    const intents = cycleIntents.forRequest(rid);
    const consumed: ZkOp[] = [];
    if (intents.cancel) {
      if (intents.cancel.deployId === pending.id) {
        snap.cancel = intents.cancel.message ? { message: intents.cancel.message } : {};
      } else consumed.push(removeIntentOp('deploy-cancel', rid));
    }
    if (intents.advance) {
      if (intents.advance.deployId === pending.id) {
        const target = intents.advance.targetActiveInstances;
        snap.advance = target === undefined ? {} : { targetActiveInstances: target };
      }
      consumed.push(removeIntentOp('deploy-advance', rid));
    }
    const plan = planDeploy(snap);
    const finish = plan.actions.find((a) => a.kind === 'finish');
    if (finish?.kind === 'finish') {
      if (intents.cancel?.deployId === pending.id)
        consumed.push(removeIntentOp('deploy-cancel', rid));
      if (bounce) consumed.push(removeIntentOp('bounce', rid));
      await this.leader.write([
        ...finishDeployOps(progress, finish.result, bounce ? null : pending, r.active),
        ...consumed,
      ]);
      this.progress.delete(rid);
      const promoted = finish.result.deployState === 'SUCCEEDED' && !bounce;
      requests.set(rid, { ...r, active: promoted ? pending : r.active, pending: null });
      this.leader.logger.info(
        { requestId: rid, deployId: pending.id, result: finish.result.deployState },
        'deploy finished',
      );
      return;
    }
    if (plan.changed || consumed.length > 0) {
      const ops = plan.changed ? [writeDeployProgressOp(plan.progress, false)] : [];
      await this.leader.write([...ops, ...consumed]);
      this.progress.set(rid, plan.progress);
    }
    await this.act(plan, r, lb, out);
    this.wakeUpAt(plan.wakeAt);
  }

  /** The stored progress, or a new one written (fenced) when the deploy is taken up. */
  private async progressOf(
    r: PlanRequest,
    pending: Deploy,
    now: number,
    bounce: boolean,
    bouncing: boolean,
    askedAt: number | undefined,
  ): Promise<DeployProgress | null> {
    const rid = pending.requestId;
    const kind = bounce ? 'BOUNCE' : 'DEPLOY';
    const known = this.progress.get(rid) ?? (await this.deploys.progress(rid));
    if (known?.deployId === pending.id && known.kind === kind && known.phase !== 'DONE') {
      this.progress.set(rid, known);
      return known;
    }
    const settings = deploySettings(pending);
    const options = {
      requestId: rid,
      deployId: pending.id,
      instances: r.record.request.instances,
      steps: {
        deployInstanceCountPerStep: settings.deployInstanceCountPerStep,
        deployStepWaitTimeMs: settings.deployStepWaitTimeMs,
        autoAdvanceDeploySteps: settings.autoAdvanceDeploySteps,
      },
      now,
    };
    const replacing = (): string[] =>
      this.leader.tasks
        .ofRequest(rid)
        .filter((t) => t.deployId === pending.id)
        .map((t) => t.taskId);
    const started = bounce
      ? startBounce({
          ...options,
          replacing: replacing(),
          ...(askedAt === undefined ? {} : { askedAt }),
        })
      : startDeploy({ ...options, previousDeployId: r.active?.id ?? null });
    // An ended progress (a bounce's) is replaced; a deploy supersedes a bounce asked for.
    const ops = [writeDeployProgressOp(started, known === null)];
    if (!bounce && bouncing) ops.push(removeIntentOp('bounce', rid));
    await this.leader.write(ops);
    this.progress.set(rid, started);
    this.leader.logger.info(
      { requestId: rid, deployId: pending.id, previous: started.previousDeployId },
      'deploy started',
    );
    return started;
  }

  private async snapshot(
    r: PlanRequest,
    pending: Deploy,
    progress: DeployProgress,
    lb: SchedulerLoadBalancer | undefined,
    now: number,
  ): Promise<DeploySnapshot> {
    const rid = pending.requestId;
    const active = this.leader.tasks.ofRequest(rid);
    const activeIds = new Set(active.map((t) => t.taskId));
    const ended = (this.ended.get(rid) ?? []).filter(
      (t) => !activeIds.has(t.taskId) && (t.updates.at(-1)?.at ?? now) >= progress.startedAt,
    );
    const all = [...active, ...ended].map((task) => ({
      task,
      upstream: upstreamOf(task, this.leader.deploys.get(`${rid}/${task.deployId}`)),
    }));
    const presence = lb ? presenceByTask(all, lb.service(lbServiceIdOf(pending))) : undefined;
    const tasks: DeployTaskView[] = all.map(({ task }) => ({
      taskId: task.taskId,
      deployId: task.deployId,
      instanceNo: task.instanceNo,
      state: task.state,
      health: task.health?.status,
      killing: this.kills.isKilling(task.taskId),
      lb: presence?.get(task.taskId) ?? 'NONE',
    }));
    const ids = progress.lbOp ? [progress.lbOp.lbRequestId] : [];
    const lbRequests = lb && ids.length > 0 ? await lb.outcomes(ids) : new Map();
    const settings = deploySettings(pending);
    return {
      now,
      progress,
      instances: r.record.request.instances,
      loadBalanced: lb !== undefined,
      settings: {
        maxTaskRetries: settings.maxTaskRetries,
        deployHealthTimeoutMs: settings.deployHealthTimeoutSeconds * 1000,
        skipHealthchecksOnDeploy: settings.skipHealthchecksOnDeploy,
      },
      tasks,
      lbRequests,
    };
  }

  private async act(
    plan: DeployPlan,
    r: PlanRequest,
    lb: SchedulerLoadBalancer | undefined,
    out: DeployCycleResult,
  ): Promise<void> {
    for (const a of plan.actions) {
      if (a.kind === 'launch') {
        out.launch.push({
          requestId: r.record.request.id,
          deployId: a.deployId,
          instanceNo: a.instanceNo,
        });
      } else if (a.kind === 'kill') {
        this.kills.sendNow(a.taskId, a.cause);
      } else if (a.kind === 'lb' && lb) await this.submit(a, r, lb);
    }
  }

  private async submit(a: LbAction, r: PlanRequest, lb: SchedulerLoadBalancer): Promise<void> {
    const rid = r.record.request.id;
    const deploy = [r.pending, r.active].find((d) => d?.id === a.settingsFrom) ?? r.pending;
    const service = deploy ? lbServiceOf(deploy) : undefined;
    if (!service) return;
    const upstreams = (ids: string[]): string[] =>
      ids.flatMap((id) => {
        const task = this.leader.tasks.get(id) ?? this.ended.get(rid)?.find((t) => t.taskId === id);
        const u = task && upstreamOf(task, this.leader.deploys.get(`${rid}/${task.deployId}`));
        return u ? [u] : [];
      });
    await lb.submit({
      requestId: a.lbRequestId,
      service,
      add: upstreams(a.add),
      remove: upstreams(a.remove),
    });
  }

  /** Time alone changes a decision at `at`: a cycle then. */
  private wakeUpAt(at: number | null): void {
    if (at === null || at >= this.wakeAt) return;
    clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeAt = Infinity;
        this.requestCycle();
      },
      Math.max(0, at - Date.now()) + 5,
    );
  }
}
