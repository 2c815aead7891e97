import type { Logger } from 'pino';
import type { HealthcheckSpec__Output } from '../gen/thales/v1/HealthcheckSpec.js';
import { detach } from '../runtime/index.js';
import {
  type AgentHealthStatus,
  type CheckOutcome,
  type HealthReport,
  type HealthStep,
  type HealthTrack,
  onCheck,
  onClock,
  startTracking,
} from './health-policy.js';
import { type ProbeTarget, runProbe } from './health-probe.js';

/** Options of {@link HealthChecker}. */
export interface HealthCheckerOptions {
  /** The host checks connect to: the agent's host, the address load balancers use too. */
  host: string;
  logger: Logger;
  /** Puts a result in the outbox and sends it (called only for a task still tracked). */
  report(taskId: string, report: HealthReport): void;
  /** Records a task's new health in its sandbox, so a restarted agent resumes from it. */
  persist(taskId: string, status: AgentHealthStatus): void;
  /** Counts each check by outcome (metrics). */
  onChecked?(outcome: CheckOutcome): void;
  /** Runs one check (tests may point it elsewhere; the default opens real connections). */
  probe?(target: ProbeTarget): Promise<CheckOutcome>;
  now?(): number;
}

interface Tracked {
  spec: HealthcheckSpec__Output;
  track: HealthTrack;
  timer: NodeJS.Timeout | undefined;
  checking: boolean;
}

/**
 * Health-checks the tasks running on this agent, next to them, for as long as they run: one
 * timer per task, at most one check in flight per task, every decision taken by the pure
 * policy (health-policy.ts). A result is reported only while its task is still tracked, so
 * nothing about a task arrives after its end.
 */
export class HealthChecker {
  private readonly tasks = new Map<string, Tracked>();
  private readonly now: () => number;

  constructor(private readonly o: HealthCheckerOptions) {
    this.now = o.now ?? Date.now;
  }

  /**
   * Starts checking a task seen running since `runningSince` (idempotent: a task already
   * tracked keeps its state). `resumed`: the health its sandbox recorded before a restart.
   */
  track(
    taskId: string,
    spec: HealthcheckSpec__Output,
    runningSince: number,
    resumed?: AgentHealthStatus,
  ): void {
    if (this.tasks.has(taskId)) return;
    const track = startTracking(spec, runningSince, this.now(), resumed);
    const tracked: Tracked = { spec, track, timer: undefined, checking: false };
    this.tasks.set(taskId, tracked);
    this.o.logger.debug({ taskId, kind: spec.kind, resumed }, 'health checks started');
    this.schedule(taskId, tracked);
  }

  /** Stops checking a task (it ended, or is being killed). */
  untrack(taskId: string): void {
    const tracked = this.tasks.get(taskId);
    if (!tracked) return;
    clearTimeout(tracked.timer);
    this.tasks.delete(taskId);
  }

  /** The health of every tracked task (for the agent's HTTP endpoint and gauges). */
  statuses(): { taskId: string; status: AgentHealthStatus }[] {
    return [...this.tasks].map(([taskId, t]) => ({ taskId, status: t.track.status }));
  }

  /** Stops every timer (tasks keep running; checks resume after a restart). */
  stop(): void {
    for (const taskId of [...this.tasks.keys()]) this.untrack(taskId);
  }

  private schedule(taskId: string, tracked: Tracked): void {
    const at = tracked.track.nextAt;
    if (at === null) return;
    const delay = Math.max(0, at - this.now());
    tracked.timer = setTimeout(
      () => detach(this.due(taskId, tracked), this.o.logger, `health check of ${taskId}`),
      delay,
    );
    tracked.timer.unref();
  }

  private async due(taskId: string, tracked: Tracked): Promise<void> {
    if (this.tasks.get(taskId) !== tracked || tracked.checking) return;
    if (tracked.spec.kind === 'RUNNING') {
      this.apply(taskId, tracked, onClock(tracked.spec, tracked.track, this.now()));
      return;
    }
    tracked.checking = true;
    const outcome = await (this.o.probe ?? runProbe)({
      kind: tracked.spec.kind,
      host: this.o.host,
      port: tracked.spec.port,
      uri: tracked.spec.uri || '/',
      method: tracked.spec.method || 'GET',
      timeoutMs: tracked.spec.responseTimeoutMs,
    });
    tracked.checking = false;
    this.o.onChecked?.(outcome);
    // Untracked meanwhile (the task ended or is being killed): its result goes nowhere.
    if (this.tasks.get(taskId) !== tracked) return;
    this.apply(taskId, tracked, onCheck(tracked.spec, tracked.track, outcome));
  }

  private apply(taskId: string, tracked: Tracked, step: HealthStep): void {
    const before = tracked.track.status;
    tracked.track = step.track;
    // The outbox first: a crash in between leaves the sandbox's older health, which only
    // makes a restarted agent report this change again, never lose it.
    if (step.report) this.o.report(taskId, step.report);
    if (step.track.status !== before) {
      this.o.persist(taskId, step.track.status);
      this.o.logger.info(
        { taskId, health: step.track.status, check: step.report?.outcome },
        'task health changed',
      );
    }
    this.schedule(taskId, tracked);
  }
}
