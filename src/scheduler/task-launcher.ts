/**
 * Launching: pending instances + offers → the matcher → tasks reserved in memory → one fenced
 * multi per batch of creates → Launch on each agent's stream. A Launch is only ever sent for a
 * committed task, so a deposed leader (whose multi ZooKeeper refuses) launches nothing.
 */
import { FenceRejectedError, ZK_RETRY_POLICY, ZkError } from '../coordination/index.js';
import type {
  Assignment,
  MatchInput,
  MatchResult,
  OfferMatcherPool,
  PendingTask,
} from '../offers/index.js';
import { Backoff, isRetryableError, mapBounded } from '../runtime/index.js';
import { matchOffers } from '../offers/index.js';
import type { TaskSpec } from '../gen/thales/v1/TaskSpec.js';
import {
  type Deploy,
  type RequestRecord,
  type Task,
  DEFAULT_RACK,
  createActiveTaskOp,
  makeTaskId,
  statePaths,
  taskHealthcheckSpec,
} from '../state/index.js';
import { buildOffers } from './offer-builder.js';
import { EMPTY_BOARD, type ScheduledBoard, nextScheduledBoard } from './scheduled-tasks.js';
import { recordMatch, type SchedulerMetrics } from './scheduler-metrics.js';
import type { LaunchIntent } from './reconcile-plan.js';
import type { TaskLeaderContext } from './task-leader-context.js';

/** Multis in flight at once while launching. */
const CONCURRENT_BATCHES = 8;
/** New task directories created at once. */
const CONCURRENT_DIRS = 32;

/** What a launch needs to know about an instance's request and deploy. */
export interface LaunchContext {
  request: (requestId: string) => RequestRecord | undefined;
  deploy: (requestId: string, deployId: string) => Deploy | undefined;
}

/** The Launch message of a task. */
export function toTaskSpec(task: Task, deploy: Deploy): TaskSpec {
  return {
    taskId: task.taskId,
    requestId: task.requestId,
    deployId: task.deployId,
    instanceNo: task.instanceNo,
    command: deploy.command,
    arguments: deploy.arguments,
    env: deploy.env,
    resources: {
      cpus: task.resources.cpus,
      memoryMb: task.resources.memoryMb,
      diskMb: task.resources.diskMb,
    },
    ports: task.ports,
    healthcheck: taskHealthcheckSpec(deploy, task.ports),
  };
}

/** The matcher's view of the instances to launch (those whose request and deploy are known). */
function toPendingTasks(intents: LaunchIntent[], launchContext: LaunchContext): PendingTask[] {
  const pending: PendingTask[] = [];
  for (const i of intents) {
    const request = launchContext.request(i.requestId)?.request;
    const deploy = launchContext.deploy(i.requestId, i.deployId);
    if (!request || !deploy) continue;
    pending.push({
      key: { requestId: i.requestId, deployId: i.deployId, instanceNo: i.instanceNo },
      resources: deploy.resources,
      placement: request.agentPlacement,
      rackSensitive: request.rackSensitive,
      requiredAttributes: request.requiredAgentAttributes,
      allowedAttributes: request.allowedAgentAttributes,
      instances: Math.max(1, request.instances),
    });
  }
  return pending;
}

/** Places and launches pending instances. */
export class TaskLauncher {
  private readonly dirs = new Set<string>();
  /** Unplaced instances of the last cycle, for logs and tests. */
  lastUnplaced = 0;
  /** What the last cycle left pending and why (`GET /api/tasks/scheduled`). */
  scheduled: ScheduledBoard = EMPTY_BOARD;

  constructor(
    private readonly leader: TaskLeaderContext,
    private readonly pool: OfferMatcherPool | undefined,
    private readonly metrics: SchedulerMetrics,
  ) {}

  /**
   * Places `intents` on the free resources of connected agents and launches them, and keeps
   * what stays pending on {@link scheduled} (called every cycle: none clears the board).
   */
  async launch(intents: LaunchIntent[], launchContext: LaunchContext): Promise<number> {
    const pending = toPendingTasks(intents, launchContext);
    if (pending.length === 0) {
      this.scheduled = EMPTY_BOARD;
      return 0;
    }
    const agents = [...this.leader.agents.values()].map((a) => ({
      record: a.record,
      connected: !!a.session?.open,
    }));
    const offers = buildOffers(agents, this.leader.tasks.values());
    if (offers.length === 0) {
      this.lastUnplaced = pending.length;
      // No usable agent: every instance stays pending, rejected by no offer.
      const unplaced = pending.map((p) => ({ taskKey: p.key, reasons: {} }));
      this.noteOutcome(pending, unplaced, 0);
      return 0;
    }
    const matchStart = Date.now();
    const result = await this.match({ offers, tasks: pending });
    if (this.leader.revoked) return 0;
    this.noteOutcome(pending, result.unplaced, offers.length);
    const now = Date.now();
    const tasks = result.assignments.map((a) => this.reserve(a, now));
    this.leader.launchesInFlight++;
    try {
      await this.commitAndSend(tasks, launchContext);
    } finally {
      this.leader.launchesInFlight--;
      if (this.leader.launchesInFlight === 0) this.leader.emitLaunchesDone();
    }
    this.leader.logger.info(
      {
        tasks: tasks.length,
        unplaced: this.lastUnplaced,
        matchMs: now - matchStart,
        commitMs: Date.now() - now,
      },
      'tasks launched',
    );
    return tasks.length;
  }

  private noteOutcome(
    tried: PendingTask[],
    unplaced: MatchResult['unplaced'],
    offers: number,
  ): void {
    this.scheduled = nextScheduledBoard(this.scheduled, {
      tried,
      unplaced,
      offers,
      now: Date.now(),
    });
  }

  /** Runs the matcher (on the pool when there is one) and records its metrics. */
  private async match(input: MatchInput): Promise<MatchResult> {
    const matchStart = Date.now();
    const seed = (Date.now() & 0x7fffffff) | 0;
    const pooledBefore = this.pool?.lastCycle;
    const result = this.pool
      ? await this.pool.match(input, { seed })
      : matchOffers(input, { seed });
    this.lastUnplaced = result.unplaced.length;
    // The pool runs small inputs inline; only a cycle that went to its workers has timings.
    const pooled = this.pool?.lastCycle;
    const timings = pooled !== pooledBefore ? pooled : undefined;
    const placed = result.assignments.length;
    recordMatch(this.metrics, Date.now() - matchStart, timings, placed, this.lastUnplaced);
    return result;
  }

  /** The task of an assignment, reserved at once: the next cycle sees it held. */
  private reserve(a: Assignment, now: number): Task {
    const agent = this.leader.agents.get(a.agentId)?.record;
    const { requestId, deployId, instanceNo } = a.taskKey;
    const task: Task = {
      taskId: makeTaskId(requestId, deployId, now, instanceNo, a.agentId),
      requestId,
      deployId,
      instanceNo,
      agentId: a.agentId,
      host: a.host,
      rack: agent?.rack ?? DEFAULT_RACK,
      startedAt: now,
      ports: [...a.ports],
      resources: {
        cpus: a.resources.cpus,
        memoryMb: a.resources.memoryMb,
        diskMb: a.resources.diskMb,
        numPorts: a.ports.length,
      },
      term: this.leader.term,
      state: 'TASK_LAUNCHED',
      updates: [{ state: 'TASK_LAUNCHED', at: now }],
    };
    this.leader.tasks.set(task.taskId, task);
    return task;
  }

  private async commitAndSend(tasks: Task[], launchContext: LaunchContext): Promise<void> {
    // New requests' task directories, overlapped: one at a time, 10,000 new requests held
    // a launch round for over a minute before its first batch.
    const newDirs = [...new Set(tasks.map((t) => t.requestId))].filter((r) => !this.dirs.has(r));
    await mapBounded(newDirs, CONCURRENT_DIRS, async (rid) => {
      await this.leader.zk.mkdirp(statePaths.tasksActiveDir(rid));
      this.dirs.add(rid);
    });
    const batches: Task[][] = [];
    for (let i = 0; i < tasks.length; i += this.leader.options.batchSize) {
      batches.push(tasks.slice(i, i + this.leader.options.batchSize));
    }
    await mapBounded(batches, CONCURRENT_BATCHES, (batch) =>
      this.commitBatch(batch, launchContext),
    );
  }

  private async commitBatch(batch: Task[], launchContext: LaunchContext): Promise<void> {
    try {
      await this.leader.write(batch.map(createActiveTaskOp));
    } catch (err) {
      if (!(await this.committedAnyway(err, batch))) {
        // Not committed: release the reservations (a fenced-out leader is being revoked).
        for (const t of batch) this.leader.tasks.delete(t.taskId);
        this.leader.logger.warn({ err, tasks: batch.length }, 'launch batch not committed');
        return;
      }
    }
    for (const t of batch) {
      const deploy = launchContext.deploy(t.requestId, t.deployId);
      const session = this.leader.agents.get(t.agentId)?.session;
      // A task whose agent went away meanwhile is found unreported on re-registration and
      // launched then (it is still TASK_LAUNCHED), or marked LOST if the agent never returns.
      if (deploy && session && this.leader.active)
        session.send({ launch: { task: toTaskSpec(t, deploy) } });
    }
  }

  /**
   * A multi that failed with a lost connection may still have committed: the batch is atomic,
   * so its first task's znode says which. Fenced out or refused means not committed.
   */
  private async committedAnyway(err: unknown, batch: Task[]): Promise<boolean> {
    if (err instanceof FenceRejectedError || !(err instanceof ZkError)) return false;
    if (!ZK_RETRY_POLICY[err.code].retryable) return false;
    const first = batch[0];
    if (!first) return false;
    const backoff = new Backoff('zookeeper');
    while (!this.leader.revoked) {
      try {
        return !!(await this.leader.zk.exists(
          statePaths.taskActive(first.requestId, first.taskId),
        ));
      } catch (readErr) {
        if (backoff.exhausted || !isRetryableError(readErr)) break;
        await new Promise((resolve) => setTimeout(resolve, backoff.next()));
      }
    }
    return false;
  }
}
