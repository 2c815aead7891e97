/**
 * How `web`'s tasks get into and out of the load balancer. Today the scheduler does not wire
 * its tasks to the load balancer itself, so the workload plays that part with explicit
 * Baragon-style requests, as `src/dev/dev-load-balancer.ts` does: a task goes in once it is
 * TASK_RUNNING, and out — acknowledged by every lb-agent — before the workload asks for it to
 * be killed. When the scheduler wires deploys to the load balancer, `--lb-routing product`
 * selects {@link ProductLbRouting}, which leaves all of it to the scheduler; the checker's
 * routing invariant is the same either way.
 */
import type { Rng } from '../rng.js';
import { call } from './api-client.js';
import type { ActiveTaskView, WorkloadContext } from './context.js';
import { WEB_SERVICE } from './spec.js';

/** The part of the workload that keeps `web`'s upstreams in step with its tasks. */
export interface LbRouting {
  /**
   * Before `web` is scaled to `n`: no instance above `n` may be routed from now on (the
   * scheduler kills them as soon as the scale lands, including ones it is still starting), and
   * the routed ones are taken out. False if that failed (then do not scale).
   */
  beforeScale(n: number): Promise<boolean>;
  /** The scale to `n` ended so: instances up to the new count may be routed again. */
  afterScale(n: number, outcome: 'ok' | 'fail' | 'info'): void;
  /** Takes `tasks` out of the load balancer before they are killed; false if that failed. */
  beforeKill(tasks: readonly ActiveTaskView[]): Promise<boolean>;
  /**
   * The kill prepared by the last {@link beforeKill} certainly did not happen (refused): the
   * tasks it took out may be routed again — not those an earlier kill or scale-down doomed.
   */
  killAbandoned(): void;
  /** Keeps the upstreams in step until the workload stops. */
  run(): Promise<void>;
}

/** The scheduler routes its own tasks: nothing for the workload to do. */
export class ProductLbRouting implements LbRouting {
  beforeScale(): Promise<boolean> {
    return Promise.resolve(true);
  }

  afterScale(): void {}

  beforeKill(): Promise<boolean> {
    return Promise.resolve(true);
  }

  killAbandoned(): void {}

  run(): Promise<void> {
    return Promise.resolve();
  }
}

const LB_WAIT_MS = 45_000;

/** A routed task: its upstream and instance number. */
interface RoutedTask {
  id: string;
  upstream: string;
  instanceNo: number;
}

/**
 * The workload's stand-in for the scheduler's load-balancer wiring. Every change goes through
 * one queue, and what to take out is decided inside it, so an add that was in flight when a
 * kill or scale-down was decided is taken out too.
 */
export class ExplicitLbRouting implements LbRouting {
  /** Tasks whose add request succeeded (and whose remove request has not). */
  readonly routed = new Map<string, RoutedTask>();
  /** Tasks taken out for a kill or scale-down that happened or may have: never routed again. */
  private readonly draining = new Set<string>();
  /** What the last beforeKill/beforeScale newly took out (given back if its op was refused). */
  private lastDrained: string[] = [];
  /** Instance numbers above it are never routed (a scale-down is landing or has landed). */
  private ceiling = Number.POSITIVE_INFINITY;
  private ceilingBeforeScale = Number.POSITIVE_INFINITY;
  private serial = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ctx: WorkloadContext,
    private readonly rng: Rng,
    private readonly process = 'lb-router',
  ) {}

  beforeScale(n: number): Promise<boolean> {
    this.ceilingBeforeScale = this.ceiling;
    this.ceiling = Math.min(this.ceiling, n);
    this.lastDrained = [];
    return this.serialized(() =>
      this.drain([...this.routed.values()].filter((r) => r.instanceNo > n)),
    );
  }

  afterScale(n: number, outcome: 'ok' | 'fail' | 'info'): void {
    // A refused scale changes nothing; one of unknown outcome may still land: stay low.
    if (outcome === 'ok') this.ceiling = n;
    else if (outcome === 'fail') {
      this.ceiling = this.ceilingBeforeScale;
      this.killAbandoned();
    } else this.ceiling = Math.min(this.ceilingBeforeScale, n);
  }

  beforeKill(tasks: readonly ActiveTaskView[]): Promise<boolean> {
    this.lastDrained = tasks.map((t) => t.id).filter((id) => !this.draining.has(id));
    for (const id of this.lastDrained) this.draining.add(id);
    const ids = new Set(tasks.map((t) => t.id));
    return this.serialized(() =>
      this.drain([...this.routed.values()].filter((r) => ids.has(r.id))),
    );
  }

  killAbandoned(): void {
    for (const id of this.lastDrained) this.draining.delete(id);
    this.lastDrained = [];
  }

  async run(): Promise<void> {
    while (!this.ctx.stopped) {
      await this.serialized(() => this.sync());
      await this.ctx.sleep(500);
    }
  }

  /**
   * Takes routed tasks out; true once every lb-agent has acknowledged (or none was routed).
   * If that fails, the tasks this call newly took out may be routed again.
   */
  private async drain(remove: readonly RoutedTask[]): Promise<boolean> {
    for (const r of remove) {
      if (this.draining.has(r.id)) continue;
      this.draining.add(r.id);
      this.lastDrained.push(r.id);
    }
    const ok = remove.length === 0 || (await this.change([], remove));
    if (!ok) this.killAbandoned();
    return ok;
  }

  /** One pass: route running tasks, unroute tasks that are no longer active. */
  async sync(): Promise<void> {
    const tasks = await this.ctx.readTasks(this.rng, this.process);
    if (!tasks) return;
    const web = tasks.filter((t) => t.requestId === WEB_SERVICE.serviceId);
    const activeIds = new Set(web.map((t) => t.id));
    const add = web
      .filter(
        (t) =>
          t.state === 'TASK_RUNNING' &&
          t.instanceNo <= this.ceiling &&
          !this.routed.has(t.id) &&
          !this.draining.has(t.id),
      )
      .map((t) => ({ id: t.id, upstream: upstreamOf(t), instanceNo: t.instanceNo }));
    const remove = [...this.routed.values()].filter(
      (r) => !activeIds.has(r.id) || r.instanceNo > this.ceiling,
    );
    for (const id of this.draining) if (!activeIds.has(id)) this.draining.delete(id);
    if (add.length === 0 && remove.length === 0) return;
    await this.change(add, remove);
  }

  /** Submits one request adding and removing upstreams; resolves whether it succeeded. */
  private async change(
    add: readonly RoutedTask[],
    remove: readonly RoutedTask[],
  ): Promise<boolean> {
    const lbRequestId = `webreq${++this.serial}-${Date.now()}`;
    const body = {
      requestId: lbRequestId,
      service: WEB_SERVICE,
      addUpstreams: add.map((t) => ({ upstream: t.upstream, requestId: t.id })),
      removeUpstreams: remove.map((t) => ({ upstream: t.upstream, requestId: t.id })),
    };
    const value = {
      lbRequestId,
      add: add.map((t) => t.upstream),
      remove: remove.map((t) => t.upstream),
      addTasks: add.map((t) => t.id),
      removeTasks: remove.map((t) => t.id),
    };
    if (!(await this.submit(lbRequestId, body, value))) return false;
    const state = await this.await(lbRequestId);
    if (state !== 'SUCCESS') return false;
    for (const t of add) this.routed.set(t.id, t);
    for (const t of remove) this.routed.delete(t.id);
    return true;
  }

  /** Submits, retrying an unknown outcome with the same id (ids are idempotency keys). */
  private async submit(id: string, body: unknown, value: unknown): Promise<boolean> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const { op } = await this.ctx.apiOp(
        this.rng,
        { process: this.process, kind: 'lb-submit', requestId: 'web', value },
        'POST',
        '/api/lb/requests',
        body,
      );
      if (op.outcome === 'ok') return true;
      if (op.outcome === 'fail' && op.status !== undefined) return false;
      await this.ctx.sleep(300);
    }
    return false;
  }

  /** Polls the request until it is terminal; records the result as one operation. */
  private async await(id: string): Promise<string | undefined> {
    let state: string | undefined;
    await this.ctx.history.run(
      { process: this.process, kind: 'lb-result', target: 'any', requestId: 'web', value: id },
      async () => {
        const started = Date.now();
        const deadline = started + LB_WAIT_MS;
        // Once the workload stops, nobody waits for the answer (the checker still requires
        // every acknowledged request to finish).
        while (Date.now() < deadline && !this.ctx.stopped) {
          const r = this.ctx.replica(this.rng);
          const a = await call(`${r.url}/api/lb/requests/${id}`, 'GET', undefined, 2_000);
          const s = (a.body as { state?: string } | undefined)?.state;
          if (a.outcome === 'ok' && s && s !== 'WAITING' && s !== 'CANCELING') {
            state = s;
            return { outcome: s === 'SUCCESS' ? 'ok' : 'fail', result: { state: s } };
          }
          await new Promise((res) => setTimeout(res, 150));
        }
        return { outcome: 'info', error: `not terminal after ${Date.now() - started} ms` };
      },
    );
    return state;
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** The upstream of a task (its host and first port). */
export function upstreamOf(t: Pick<ActiveTaskView, 'host' | 'ports'>): string {
  return `${t.host}:${t.ports[0] ?? 0}`;
}
