/**
 * A FAKE world behind the deploy state machine's pure interface, for property tests: tasks
 * that start, turn healthy or unhealthy, crash and die when killed; lb-agents that apply
 * load-balancer requests one by one, acknowledge or refuse them, and revert (sometimes
 * failing to); a clock. It plays the part of the scheduler loop too: it builds snapshots the
 * way the loop will (presence through the product's lbPresence) and carries out the plan's
 * actions. Nothing here is ZooKeeper or a process: the machine is pure.
 *
 * It records, against its own per-agent truth, what the properties assert: kills of tasks an
 * lb-agent still routes to, how many healthy instances each lb-agent routes to, results.
 */
import {
  type DeployAction,
  type DeploySnapshot,
  type DeployTaskView,
  type LbRequestOutcome,
  type LbRequestTouch,
  lbPresence,
  planDeploy,
  startBounce,
  startDeploy,
} from '../../../src/deploys/index.js';
import {
  type DeployProgress,
  type DeployResult,
  type HealthStatus,
  type TaskState,
  deployProgressSchema,
  isTerminal,
} from '../../../src/state/index.js';

/** One simulated run's settings. */
export interface WorldParams {
  kind: 'DEPLOY' | 'BOUNCE';
  instances: number;
  perStep: number | undefined;
  waitMs: number;
  autoAdvance: boolean;
  maxTaskRetries: number;
  healthTimeoutMs: number;
  skipHealthchecks: boolean;
  loadBalanced: boolean;
  lbAgents: number;
  /** DEPLOY: whether an active deploy runs `instances` tasks when it starts. */
  hasPrevious: boolean;
  /** 0: nothing goes wrong; 1-3: how often harm (crash, unhealthy, NACK, failed revert) strikes. */
  harm: number;
  /** Harm only tasks that never counted as serving (the world of the capacity property). */
  benign: boolean;
  /** Ask for a cancel once this many events went by (never if undefined). */
  cancelAfter: number | undefined;
  /** Leaders may fail over: a pass's progress is persisted, its other actions are lost. */
  failovers: boolean;
}

interface SimTask {
  taskId: string;
  deployId: string;
  instanceNo: number;
  state: TaskState;
  health: HealthStatus | undefined;
  killing: boolean;
  /** Counted toward capacity once (routed, or ready without a load balancer): protected in a benign world. */
  everCounted: boolean;
}

interface SimRequest {
  id: string;
  add: string[];
  remove: string[];
  state: LbRequestOutcome;
  pending: Set<number>;
  applied: Set<number>;
  nacked: boolean;
  revertFailed: boolean;
}

/** A violation of a property, with the world's recent history. */
export class WorldViolation extends Error {}

/** The fake world and the loop driving the machine in it. */
export class FakeDeployWorld {
  now = 1_000_000;
  readonly tasks = new Map<string, SimTask>();
  /** The stored service's upstreams (task ids), and what each lb-agent actually routes to. */
  record = new Set<string>();
  readonly agents: Set<string>[];
  readonly requests = new Map<string, SimRequest>();
  /** Requests since the last SUCCESS (what presence is derived from). */
  private since: SimRequest[] = [];
  progress: DeployProgress;
  readonly results: DeployResult[] = [];
  readonly history: string[] = [];
  private seq = 0;
  private cancelled = false;
  private advanceAsked = false;
  private failingOver = false;
  failoversDone = 0;
  events = 0;
  minRoutedHealthy = Number.POSITIVE_INFINITY;

  constructor(readonly p: WorldParams) {
    this.agents = Array.from({ length: p.lbAgents }, () => new Set<string>());
    const n = p.instances;
    const steps = {
      deployInstanceCountPerStep: p.perStep,
      deployStepWaitTimeMs: p.waitMs,
      autoAdvanceDeploySteps: p.autoAdvance,
    };
    const base = { requestId: 'web', instances: n, steps, now: this.now };
    const old: string[] = [];
    if (p.kind === 'BOUNCE' || p.hasPrevious) {
      const deployId = p.kind === 'BOUNCE' ? 'v2' : 'v1';
      for (let i = 1; i <= n; i++) old.push(this.addTask(deployId, i, 'TASK_RUNNING', 'HEALTHY'));
      if (p.loadBalanced) {
        this.record = new Set(old);
        for (const a of this.agents) for (const t of old) a.add(t);
      }
      for (const t of old) this.tasks.get(t)!.everCounted = true;
    }
    this.progress =
      p.kind === 'BOUNCE'
        ? startBounce({ ...base, deployId: 'v2', replacing: old })
        : startDeploy({ ...base, deployId: 'v2', previousDeployId: p.hasPrevious ? 'v1' : null });
  }

  /** Whether capacity is owed from the start (an old generation serves `instances`). */
  get capacityOwed(): boolean {
    return this.p.kind === 'BOUNCE' || this.p.hasPrevious;
  }

  private addTask(
    deployId: string,
    instanceNo: number,
    state: TaskState,
    health?: HealthStatus,
  ): string {
    const taskId = `web-${deployId}-${++this.seq}-${instanceNo}`;
    this.tasks.set(taskId, {
      taskId,
      deployId,
      instanceNo,
      state,
      health,
      killing: false,
      everCounted: false,
    });
    return taskId;
  }

  private fail(what: string): never {
    throw new WorldViolation(`${what}\n  recent: ${this.history.slice(-25).join('\n  ')}`);
  }

  /** Ready as the machine means it: running and healthy (or skipping checks, not unhealthy). */
  private readyish(t: SimTask): boolean {
    if (isTerminal(t.state) || t.state !== 'TASK_RUNNING') return false;
    return this.p.skipHealthchecks ? t.health !== 'UNHEALTHY' : t.health === 'HEALTHY';
  }

  /** The loop's snapshot: tasks with presence derived as the driver will derive it. */
  snapshot(): DeploySnapshot {
    const touches: LbRequestTouch[] = this.since.map((r) => ({
      state: r.state,
      revertFailed: r.revertFailed,
      add: r.add,
      remove: r.remove,
    }));
    const tasks: DeployTaskView[] = [...this.tasks.values()].map((t) => ({
      taskId: t.taskId,
      deployId: t.deployId,
      instanceNo: t.instanceNo,
      state: t.state,
      health: t.health,
      killing: t.killing,
      lb: this.p.loadBalanced ? lbPresence(t.taskId, this.record, touches) : 'NONE',
    }));
    const lbRequests = new Map([...this.requests.values()].map((r) => [r.id, r.state]));
    const snap: DeploySnapshot = {
      now: this.now,
      progress: this.progress,
      instances: this.p.instances,
      loadBalanced: this.p.loadBalanced,
      settings: {
        maxTaskRetries: this.p.maxTaskRetries,
        deployHealthTimeoutMs: this.p.healthTimeoutMs,
        skipHealthchecksOnDeploy: this.p.skipHealthchecks,
      },
      tasks,
      lbRequests,
    };
    if (this.cancelled) snap.cancel = { message: 'asked by the test' };
    if (this.advanceAsked) snap.advance = {};
    return snap;
  }

  /** One pass of the loop: plan, check, persist, act. Returns the plan's wake-up time. */
  plan(): number | null {
    const plan = planDeploy(this.snapshot());
    this.advanceAsked = false;
    // Persisted as the loop persists it: JSON through the stored schema, nothing else kept.
    this.progress = deployProgressSchema.parse(JSON.parse(JSON.stringify(plan.progress)));
    // A leader that dies right after persisting loses its actions, except the result, which
    // is written in the same multi as the progress (finishDeployOps).
    const lost = this.failingOver;
    this.failingOver = false;
    if (lost)
      this.history.push(`@${this.now} leader failed over; lost ${plan.actions.length} action(s)`);
    for (const a of plan.actions) if (!lost || a.kind === 'finish') this.apply(a);
    this.checkCapacity('after actions');
    return plan.wakeAt;
  }

  private apply(a: DeployAction): void {
    this.history.push(`@${this.now} ${JSON.stringify(a)}`);
    switch (a.kind) {
      case 'launch': {
        const held = [...this.tasks.values()].some(
          (t) => t.deployId === a.deployId && t.instanceNo === a.instanceNo && !isTerminal(t.state),
        );
        if (held)
          this.fail(`launch of ${a.deployId}#${a.instanceNo}, held by an alive task (invariant 3)`);
        this.addTask(a.deployId, a.instanceNo, 'TASK_LAUNCHED');
        return;
      }
      case 'lb':
        return this.submit(a.lbRequestId, a.add, a.remove);
      case 'kill': {
        const t = this.tasks.get(a.taskId);
        if (!t) this.fail(`kill of unknown ${a.taskId}`);
        const routes = this.agents.findIndex((s) => s.has(a.taskId));
        if (routes >= 0 || this.record.has(a.taskId)) {
          this.fail(
            `kill of ${a.taskId} while lb-agent ${routes} (or the stored service) routes to it`,
          );
        }
        t.killing = true;
        return;
      }
      case 'finish':
        this.results.push(a.result);
        if (this.results.length > 1) this.fail('a second deploy result');
        return;
    }
  }

  private submit(id: string, add: string[], remove: string[]): void {
    const existing = this.requests.get(id);
    if (existing) {
      if (JSON.stringify([existing.add, existing.remove]) !== JSON.stringify([add, remove])) {
        this.fail(`request ${id} resubmitted with another body`);
      }
      return;
    }
    for (const taskId of add) {
      const t = this.tasks.get(taskId);
      if (!t || !this.readyish(t)) this.fail(`add of ${taskId}, not ready (invariant 5)`);
    }
    const r: SimRequest = {
      id,
      add,
      remove,
      state: 'WAITING',
      pending: new Set(this.agents.map((_, i) => i)),
      applied: new Set(),
      nacked: false,
      revertFailed: false,
    };
    this.requests.set(id, r);
    this.since.push(r);
  }

  private nextConfig(r: SimRequest): Set<string> {
    const next = new Set([...this.record, ...r.add]);
    for (const t of r.remove) next.delete(t);
    return next;
  }

  /** Every lb-agent answered: SUCCESS pushes the service everywhere; otherwise revert. */
  private decide(r: SimRequest, revertFails: boolean): void {
    if (r.pending.size > 0) return;
    if (!r.nacked) {
      r.state = 'SUCCESS';
      this.record = this.nextConfig(r);
      for (let i = 0; i < this.agents.length; i++) this.agents[i] = new Set(this.record);
      this.since = [];
    } else {
      r.state = 'FAILED';
      for (const i of r.applied) {
        if (revertFails) r.revertFailed = true;
        else this.agents[i] = new Set(this.record);
      }
    }
    this.markCounted();
  }

  /** Tasks now counted toward capacity become protected in a benign world. */
  private markCounted(): void {
    for (const t of this.tasks.values()) {
      if (t.everCounted || !this.readyish(t) || t.killing) continue;
      if (!this.p.loadBalanced || this.agents.some((a) => a.has(t.taskId))) t.everCounted = true;
    }
  }

  /** Capacity, by per-agent truth: every lb-agent routes to `instances` ready tasks. */
  checkCapacity(when: string): void {
    if (!this.capacityOwed) return;
    const counts = this.p.loadBalanced
      ? this.agents.map((a) => [...a].filter((id) => this.readyOnRoute(id)).length)
      : [[...this.tasks.values()].filter((t) => this.readyish(t) && !t.killing).length];
    const min = Math.min(...counts);
    this.minRoutedHealthy = Math.min(this.minRoutedHealthy, min);
    if (this.p.benign && min < this.p.instances) {
      this.fail(
        `${when}: only ${min} ready instances served (${JSON.stringify(counts)}), want ${this.p.instances}`,
      );
    }
  }

  private readyOnRoute(taskId: string): boolean {
    const t = this.tasks.get(taskId);
    return !!t && this.readyish(t);
  }

  /** The events that can happen now: [name, apply, isHarm]. */
  events_(fair: boolean): [string, () => void, boolean][] {
    const out: [string, () => void, boolean][] = [];
    const harmOk = (t: SimTask): boolean =>
      !fair && this.p.harm > 0 && !(this.p.benign && t.everCounted);
    for (const t of this.tasks.values()) {
      if (isTerminal(t.state)) continue;
      const id = t.taskId;
      if (t.killing) {
        out.push([`${id} killed`, () => this.endTask(t, 'TASK_KILLED'), false]);
        continue;
      }
      if (t.state === 'TASK_LAUNCHED')
        out.push([`${id} running`, () => (t.state = 'TASK_RUNNING'), false]);
      if (t.state === 'TASK_RUNNING' && t.health === undefined) {
        out.push([`${id} healthy`, () => (t.health = 'HEALTHY'), false]);
      }
      if (harmOk(t)) {
        out.push([`${id} crashed`, () => this.endTask(t, 'TASK_FAILED'), true]);
        if (t.state === 'TASK_RUNNING' && t.health !== 'UNHEALTHY') {
          out.push([`${id} unhealthy`, () => (t.health = 'UNHEALTHY'), true]);
        }
      }
    }
    for (const r of this.requests.values()) {
      if (r.state !== 'WAITING') continue;
      for (const i of r.pending) {
        out.push([`${r.id} ack ${i}`, () => this.answer(r, i, true, false), false]);
        if (!fair && this.p.harm > 0) {
          out.push([`${r.id} nack ${i}`, () => this.answer(r, i, false, false), true]);
          out.push([`${r.id} ack ${i}, revert fails`, () => this.answer(r, i, true, true), true]);
        }
      }
    }
    const p = this.progress;
    if (!this.p.autoAdvance && p.phase === 'DEPLOYING' && (p.stepComplete || !fair)) {
      out.push(['advance', () => (this.advanceAsked = true), false]);
    }
    if (
      !fair &&
      this.p.cancelAfter !== undefined &&
      this.events >= this.p.cancelAfter &&
      !this.cancelled
    ) {
      out.push(['cancel', () => (this.cancelled = true), false]);
    }
    return out;
  }

  private answer(r: SimRequest, agent: number, ok: boolean, revertFails: boolean): void {
    r.pending.delete(agent);
    if (ok) {
      this.agents[agent] = this.nextConfig(r);
      r.applied.add(agent);
    } else r.nacked = true;
    this.markCounted();
    this.decide(r, revertFails);
  }

  private endTask(t: SimTask, state: TaskState): void {
    t.state = state;
    const routes = this.agents.findIndex((a) => a.has(t.taskId));
    if (t.killing && routes >= 0)
      this.fail(`${t.taskId} died of its kill while lb-agent ${routes} routes to it`);
  }

  /** Runs the loop: `tape` picks the events (harm included), then a fair tail to the end. */
  run(tape: readonly number[], maxEvents = 4000): void {
    let wakeAt = this.plan();
    for (let i = 0; this.progress.phase !== 'DONE'; i++) {
      if (i > maxEvents)
        this.fail(`no result after ${maxEvents} events: ${JSON.stringify(this.progress)}`);
      const fair = i >= tape.length;
      const v = tape[i] ?? 0;
      const all = this.events_(fair);
      const harms = all.filter((e) => e[2]);
      const calm = all.filter((e) => !e[2]);
      let chosen: [string, () => void, boolean] | undefined;
      if (harms.length > 0 && v % 10 < this.p.harm)
        chosen = harms[Math.floor(v / 10) % harms.length];
      else if (calm.length > 0 && (fair || v % 7 !== 0))
        chosen = fair ? calm[0] : calm[v % calm.length];
      if (chosen) {
        this.history.push(`@${this.now} event ${chosen[0]}`);
        chosen[1]();
      } else {
        // Nothing happens but time: to the machine's next deadline, or a little.
        const step = fair
          ? Math.max(1, (wakeAt ?? this.now + 1000) - this.now)
          : 500 + (v % 20_000);
        this.now += step;
        this.history.push(`@${this.now} time +${step}`);
      }
      this.events++;
      this.markCounted();
      this.checkCapacity(`after ${chosen?.[0] ?? 'time'}`);
      wakeAt = this.plan();
    }
    // Done means done: another pass decides nothing.
    const again = planDeploy(this.snapshot());
    if (again.actions.length > 0 || again.changed) this.fail('a pass after the result still acts');
  }

  /** Live tasks (alive, not being killed). */
  live(): SimTask[] {
    return [...this.tasks.values()].filter((t) => !isTerminal(t.state) && !t.killing);
  }

  /** Whether a task is ready and, load-balanced, routed by every lb-agent. */
  serves(t: SimTask): boolean {
    return this.readyish(t) && (!this.p.loadBalanced || this.agents.every((a) => a.has(t.taskId)));
  }
}
