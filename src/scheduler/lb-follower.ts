/**
 * Carries out the load-balancer follow rule (lb-follow-plan.ts) each cycle, after the cycle's
 * kills were decided: for every load-balanced request, builds the snapshot from memory (its
 * active tasks, the service as the gateway knows it, the kills held), submits at most one
 * request per service, releases the held kills whose task is out everywhere, and retires
 * unhealthy tasks. It also installs the hold on the kill sender: a kill of a load-balanced
 * request's task waits for its removal.
 */
import { createHash } from 'node:crypto';
import type { Deploy, KillCause, Task } from '../state/index.js';
import { lbServiceOf, presenceByTask, upstreamOf } from './deploy-lb-service.js';
import type { KillSender } from './kill-policy.js';
import { type FollowTask, planLbFollow } from './lb-follow-plan.js';
import type { SchedulerLoadBalancer } from './load-balancer-gateway.js';
import type { PlanRequest } from './reconcile-plan.js';
import type { TaskLeaderContext } from './task-leader-context.js';

const UNHEALTHY_REPLACED: KillCause = { cleanupType: 'UNHEALTHY', message: 'unhealthy: replaced' };

/** Longest load-balancer request id (src/lb/lb-validation.ts). */
const MAX_LB_ID = 128;

/** Keeps each load-balanced request's upstreams in step with its tasks. */
export class LbFollower {
  private counter = 0;

  constructor(
    private readonly leader: TaskLeaderContext,
    /** The desired state as the current cycle loaded it (read when a kill is decided). */
    private readonly requests: () => ReadonlyMap<string, PlanRequest>,
    private readonly kills: KillSender,
    private readonly lb: () => SchedulerLoadBalancer | undefined,
    private readonly requestCycle: () => void,
  ) {
    kills.hold = (task) => this.mustHold(task);
  }

  /** One pass; `driven` are the requests whose deploy in progress handles their upstreams. */
  async run(driven: ReadonlySet<string>): Promise<void> {
    const requests = this.requests();
    const lb = this.lb();
    const held = this.kills.heldKills();
    // A held kill whose request no longer has a load balancer goes at once.
    for (const taskId of [...held.keys()]) {
      const task = this.leader.tasks.get(taskId);
      if (!task || !this.mustHold(task)) this.kills.release(taskId);
    }
    if (!lb?.ready) return;
    for (const [rid, r] of requests) {
      const service = this.serviceOf(r);
      if (!service) continue;
      try {
        const tasks = this.leader.tasks.ofRequest(rid);
        await this.runOne(rid, r, service, tasks, lb, !driven.has(rid));
      } catch (err) {
        this.leader.logger.warn({ err, requestId: rid }, 'load-balancer follow failed; retried');
      }
    }
  }

  private async runOne(
    rid: string,
    r: PlanRequest,
    service: NonNullable<ReturnType<typeof lbServiceOf>>,
    tasks: readonly Task[],
    lb: SchedulerLoadBalancer,
    follow: boolean,
  ): Promise<void> {
    const withUpstreams = tasks.map((task) => ({
      task,
      upstream: upstreamOf(task, this.leader.deploys.get(`${rid}/${task.deployId}`)),
    }));
    const state = lb.service(service.serviceId);
    const presence = presenceByTask(withUpstreams, state);
    const held = this.kills.heldKills();
    const target = r.active?.id;
    const view: FollowTask[] = withUpstreams.map(({ task, upstream }) => ({
      taskId: task.taskId,
      upstream,
      state: task.state,
      health: task.health?.status,
      ofTarget: task.deployId === target,
      held: held.has(task.taskId),
      killing: this.leader.killsSent.has(task.taskId),
      lb: presence.get(task.taskId) ?? 'NONE',
    }));
    const plan = planLbFollow({
      tasks: view,
      storedUpstreams: state.upstreams,
      busy: state.open > 0,
      follow,
    });
    for (const taskId of plan.release) this.kills.release(taskId);
    for (const taskId of plan.retire) this.kills.send(taskId, UNHEALTHY_REPLACED);
    if (plan.add.length > 0 || plan.remove.length > 0) {
      await lb.submit({
        requestId: this.nextRequestId(service.serviceId),
        service,
        add: plan.add,
        remove: plan.remove,
      });
    }
    if (plan.retire.length > 0) this.requestCycle();
  }

  /**
   * Which of `tasks` (the request's active tasks, as the caller grouped them) every lb-agent
   * routes to; undefined when the request is not load-balanced (or there is no LB
   * extension). Before the manager is ready: none.
   */
  inLoadBalancer(rid: string, tasks: readonly Task[]): ReadonlySet<string> | undefined {
    const r = this.requests().get(rid);
    const service = r && this.serviceOf(r);
    const lb = this.lb();
    if (!service || !lb) return undefined;
    if (!lb.ready) return new Set();
    const upstreams = tasks.map((task) => ({
      task,
      upstream: upstreamOf(task, this.leader.deploys.get(`${rid}/${task.deployId}`)),
    }));
    const presence = presenceByTask(upstreams, lb.service(service.serviceId));
    return new Set([...presence].filter(([, p]) => p === 'ALL').map(([id]) => id));
  }

  /**
   * Whether a deleted request's load-balancer service is gone, so the request may be removed:
   * once its upstreams are out (this follower takes out those no live task owns), the
   * service itself is deleted from every lb-agent through the manager, and only after that
   * request succeeded is the answer yes. Without a service (not load-balanced, no LB
   * extension): yes at once. A request re-created later with the same id starts from no
   * service, as a new one.
   */
  async serviceRemoved(r: PlanRequest): Promise<boolean> {
    const service = this.serviceOf(r);
    const lb = this.lb();
    if (!service || !lb) return true;
    if (!lb.ready) return false;
    const state = lb.service(service.serviceId);
    if (state.open > 0) return false;
    if (!state.stored) return true;
    if (state.upstreams.size > 0) return false;
    await lb.submit({
      requestId: this.nextRequestId(service.serviceId),
      service,
      add: [],
      remove: [],
      action: 'DELETE',
    });
    return false;
  }

  /**
   * Whether a load balancer may still route to an upstream on this agent's host that no
   * active task owns — an orphan's (a task marked LOST whose agent came back), whose removal
   * has not succeeded yet: the orphan's kill waits until it is out (invariant 5). Before the
   * LB manager is ready, "not routed" cannot be known: maybe.
   */
  mayRouteToAgent(agentId: string): boolean {
    const lb = this.lb();
    const host = this.leader.agents.get(agentId)?.record.host;
    if (!lb || host === undefined) return false;
    if (!lb.ready) return true;
    const owned = new Set<string>();
    for (const t of this.leader.tasks.values())
      for (const p of t.ports) owned.add(`${t.host}:${p}`);
    const stale = (u: string): boolean => u.startsWith(`${host}:`) && !owned.has(u);
    // Every service, not only those of load-balanced requests: an operator's hand-made
    // requests route to tasks too (seen in the chaos run, whose workload routes `web` so).
    for (const serviceId of lb.serviceIds()) {
      const state = lb.service(serviceId);
      if ([...state.upstreams].some(stale)) return true;
      if (state.touches.some((t) => t.add.some(stale) || t.remove.some(stale))) return true;
    }
    return false;
  }

  /** A task of a load-balanced request may be routed to: its kill waits for its removal. */
  private mustHold(task: Task): boolean {
    if (!this.lb()) return false;
    const r = this.requests().get(task.requestId);
    return r !== undefined && this.serviceOf(r) !== undefined;
  }

  /** The service of a load-balanced request, from its active (else pending) deploy. */
  private serviceOf(r: PlanRequest): ReturnType<typeof lbServiceOf> {
    if (r.record.request.loadBalanced !== true) return undefined;
    const deploy: Deploy | null = r.active ?? r.pending;
    return deploy ? lbServiceOf(deploy) : undefined;
  }

  private nextRequestId(serviceId: string): string {
    const suffix = `-follow-${this.leader.term}-${Date.now()}-${++this.counter}`;
    if (serviceId.length + suffix.length <= MAX_LB_ID) return `${serviceId}${suffix}`;
    const digest = createHash('sha256').update(serviceId).digest('hex').slice(0, 16);
    return `${digest}${suffix}`;
  }
}
