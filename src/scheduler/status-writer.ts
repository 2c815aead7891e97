/**
 * Status updates from agents: persisted first, acknowledged after. Updates are queued and
 * written in batches (one fenced multi each); an update is acknowledged on its agent's stream
 * only once its multi has committed, so an agent keeps re-sending it until it is durable.
 */
import type { Logger } from 'pino';
import { FenceRejectedError, ZkError, type ZkOp } from '../coordination/index.js';
import type { StatusUpdate__Output } from '../gen/thales/v1/StatusUpdate.js';
import { Backoff, detach } from '../runtime/index.js';
import {
  type Task,
  type TaskUpdate,
  endTaskOps,
  isTaskState,
  type HealthcheckResult,
  isTerminal,
  setActiveTaskOp,
} from '../state/index.js';
import type { AgentSession } from './agent-session.js';
import { applyStatusTransition, toHealthcheckResult } from './task-health-results.js';
import { TaskHistoryIndex } from './task-history.js';

/**
 * One task's next update, to persist: decided by the leader itself (LOST) or reported by its
 * agent. (The agent's `TaskTransition` is what its supervisor derives from a process.)
 */
export interface TaskStatusChange {
  taskId: string;
  update: TaskUpdate;
  /** Set on an agent's health update (recorded on the task; its state does not change). */
  health?: HealthcheckResult;
}

/** Called after a task ended and its end is persisted. */
export type OnTaskEnded = (task: Task) => void;

/**
 * What the status writer needs of the leadership: its TaskLeaderContext in production, a fake
 * in unit tests.
 */
export interface StatusWriterHost {
  /** Active tasks by id (this leader is their only writer). */
  readonly tasks: Map<string, Task>;
  readonly revoked: boolean;
  readonly logger: Logger;
  /** Resolves when no launch round is committing (launches go first). */
  launchesSettled(): Promise<void>;
  /** Runs `work` after every earlier serialized task-changing write. */
  serialize<T>(work: () => Promise<T>): Promise<T>;
  /** A fenced multi. */
  write(ops: ZkOp[]): Promise<void>;
  /** The task ids in a request's history in ZooKeeper (making its directory if needed). */
  historyTaskIds(requestId: string): Promise<string[]>;
  /** Whether a task's active znode is still in ZooKeeper. */
  activeInStore(task: Task): Promise<boolean>;
}

const MAX_UPDATES_PER_BATCH = 100;

interface Queued {
  session: AgentSession | null;
  updateId: string;
  change: TaskStatusChange;
}

/** Persists task transitions in batches and acknowledges them once durable. */
export class StatusWriter {
  private queue: Queued[] = [];
  private flushing = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff('leaderStateWrite');
  private readonly history: TaskHistoryIndex;

  constructor(
    private readonly host: StatusWriterHost,
    private readonly onEnded: OnTaskEnded,
    private readonly onChanged: (task: Task) => void = () => undefined,
  ) {
    this.history = new TaskHistoryIndex((rid) => host.historyTaskIds(rid));
  }

  /** Queues an agent's status update (acknowledged on `session` once persisted). */
  fromAgent(session: AgentSession, s: StatusUpdate__Output): void {
    const state = s.state;
    if (!isTaskState(state)) {
      this.host.logger.warn({ update: s }, 'status update with an unknown state; acknowledged');
      session.send({ ack: { updateIds: [s.updateId] } });
      return;
    }
    const update: TaskUpdate = { state, at: s.atMs || Date.now() };
    if (s.message) update.message = s.message;
    if (s.hasExitCode) update.exitCode = s.exitCode;
    const health = toHealthcheckResult(s.healthcheck);
    const change: TaskStatusChange = { taskId: s.taskId, update, ...(health ? { health } : {}) };
    this.push({ session, updateId: s.updateId, change });
  }

  /**
   * Queues leader-decided changes (e.g. LOST). Returns at once: they are persisted in order
   * with the agents' updates, retried until this leadership ends.
   */
  fromLeader(changes: TaskStatusChange[]): void {
    for (const change of changes) this.push({ session: null, updateId: '', change });
  }

  /** Stops retrying (leadership over). */
  stop(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.queue = [];
  }

  private push(q: Queued): void {
    this.queue.push(q);
    // While a retry waits out its back-off, new updates wait with it.
    if (!this.flushing && !this.retryTimer) this.startFlush();
  }

  /** A flush catches its own failures (d5ad0ff); detach() is the net under that. */
  private startFlush(): void {
    detach(this.flush(), this.host.logger, 'status flush');
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    this.retryTimer = undefined;
    try {
      while (this.queue.length > 0 && !this.host.revoked) {
        // Launch commits go first: a status update only has to be durable before its ack.
        await this.host.launchesSettled();
        const batch = this.queue.splice(0, MAX_UPDATES_PER_BATCH);
        const ok = await this.host
          .serialize(() => this.writeBatch(batch))
          .catch((err) => {
            // Not persisted, like a refused write (seen: a history read's CONNECTION_LOSS,
            // which escaped the detached flush and ended the replica): retried.
            this.host.logger.warn({ err }, 'status batch not persisted; retried');
            return false;
          });
        if (!ok) {
          // Not persisted: retry later (nothing was acknowledged).
          this.queue.unshift(...batch);
          if (this.host.revoked) return;
          this.retryTimer = setTimeout(() => this.startFlush(), this.backoff.next());
          return;
        }
        this.backoff.reset();
      }
    } finally {
      this.flushing = false;
    }
  }

  /** The next state of each task the batch changes (stale and repeated updates dropped). */
  private nextStates(batch: Queued[]): Map<string, Task> {
    const working = new Map<string, Task>();
    for (const q of batch) {
      const { taskId, update, health } = q.change;
      const current = working.get(taskId) ?? this.host.tasks.get(taskId);
      const next = current && applyStatusTransition(current, update, health);
      if (next) working.set(taskId, next);
    }
    return working;
  }

  /**
   * Writes one batch; true when committed (or nothing needed writing). Rejects when a history
   * it compacts cannot be read (e.g. CONNECTION_LOSS): the flush then retries it.
   */
  private async writeBatch(batch: Queued[]): Promise<boolean> {
    const working = this.nextStates(batch);
    const history = this.history.draft();
    const ops: ZkOp[] = [];
    for (const task of working.values()) {
      if (isTerminal(task.state)) ops.push(...endTaskOps(task), ...(await history.add(task)));
      else ops.push(setActiveTaskOp(task));
    }
    if (ops.length > 0) {
      try {
        await this.host.write(ops);
      } catch (err) {
        if (!isConflict(err)) {
          this.host.logger.warn({ err, ops: ops.length }, 'status batch not persisted');
          return false;
        }
        // One op conflicts (e.g. a retry of a multi that did commit): go task by task, so
        // one stale transition cannot hold the others back forever.
        this.host.logger.warn({ err }, 'status batch conflicts; writing task by task');
        const done = await this.writeOneByOne([...working.values()]);
        this.apply([...working.values()].filter((t) => done.has(t.taskId)));
        this.ackAll(
          batch.filter((q) => done.has(q.change.taskId) || !working.has(q.change.taskId)),
        );
        return true;
      }
    }
    history.commit();
    this.apply([...working.values()]);
    this.ackAll(batch);
    return true;
  }

  /** Task by task; returns the ids whose transition is (now, or already) in ZooKeeper. */
  private async writeOneByOne(tasks: Task[]): Promise<Set<string>> {
    const done = new Set<string>();
    const history = this.history.draft();
    for (const task of tasks) {
      const terminal = isTerminal(task.state);
      try {
        await this.host.write(terminal ? endTaskOps(task) : [setActiveTaskOp(task)]);
        done.add(task.taskId);
      } catch (err) {
        if (!isConflict(err)) continue;
        // Its active znode is gone: its end is already recorded (this leader is the only writer).
        if (!(await this.host.activeInStore(task).catch(() => true))) done.add(task.taskId);
      }
      // Written without compaction: its history entry counts from now on. A history that
      // cannot be read now is read from ZooKeeper, entry included, when next needed.
      if (terminal && done.has(task.taskId)) await history.record(task).catch(() => undefined);
    }
    history.commit();
    return done;
  }

  private apply(tasks: Task[]): void {
    const ended: Task[] = [];
    for (const task of tasks) {
      if (isTerminal(task.state)) {
        this.host.tasks.delete(task.taskId);
        ended.push(task);
      } else this.host.tasks.set(task.taskId, task);
      this.onChanged(task);
    }
    for (const t of ended) this.onEnded(t);
  }

  private ackAll(batch: Queued[]): void {
    const bySession = new Map<AgentSession, string[]>();
    for (const q of batch) {
      if (!q.session) continue;
      const ids = bySession.get(q.session) ?? [];
      ids.push(q.updateId);
      bySession.set(q.session, ids);
    }
    for (const [session, updateIds] of bySession) session.send({ ack: { updateIds } });
  }
}

/** A refusal caused by one op of a multi (not by the fence or the connection). */
function isConflict(err: unknown): boolean {
  if (err instanceof FenceRejectedError || !(err instanceof ZkError)) return false;
  return err.code === 'NO_NODE' || err.code === 'NODE_EXISTS' || err.code === 'BAD_VERSION';
}
