/**
 * Status updates from agents: persisted first, acknowledged after. Updates are queued and
 * written in batches (one fenced multi each); an update is acknowledged on its agent's stream
 * only once its multi has committed, so an agent keeps re-sending it until it is durable.
 */
import { FenceRejectedError, ZkError, type ZkOp } from '../coordination/index.js';
import type { StatusUpdate__Output } from '../gen/thales/v1/StatusUpdate.js';
import {
  MAX_HISTORY_PER_REQUEST,
  type Task,
  type TaskUpdate,
  childrenOrEmpty,
  endTaskOps,
  isTaskState,
  isTerminal,
  removeHistoryOp,
  setActiveTaskOp,
  statePaths,
  withUpdate,
} from '../state/index.js';
import type { AgentSession } from './agent-session.js';
import type { TaskLeaderContext } from './task-leader-context.js';

/**
 * One task's next update, to persist: decided by the leader itself (LOST) or reported by its
 * agent. (The agent's `TaskTransition` is what its supervisor derives from a process.)
 */
export interface TaskStatusChange {
  taskId: string;
  update: TaskUpdate;
}

/** Called after a task ended and its end is persisted. */
export type OnTaskEnded = (task: Task) => void;

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
  /** requestId → history task ids, oldest first (loaded on first use). */
  private readonly history = new Map<string, string[]>();

  constructor(
    private readonly leader: TaskLeaderContext,
    private readonly onEnded: OnTaskEnded,
    private readonly onChanged: (task: Task) => void = () => undefined,
  ) {}

  /** Queues an agent's status update (acknowledged on `session` once persisted). */
  fromAgent(session: AgentSession, s: StatusUpdate__Output): void {
    const state = s.state;
    if (!isTaskState(state)) {
      this.leader.logger.warn({ update: s }, 'status update with an unknown state; acknowledged');
      session.send({ ack: { updateIds: [s.updateId] } });
      return;
    }
    const update: TaskUpdate = { state, at: s.atMs || Date.now() };
    if (s.message) update.message = s.message;
    if (s.hasExitCode) update.exitCode = s.exitCode;
    this.push({ session, updateId: s.updateId, change: { taskId: s.taskId, update } });
  }

  /** Queues a leader-decided transition (e.g. LOST); resolves once persisted. */
  fromLeader(changes: TaskStatusChange[]): void {
    for (const change of changes) this.push({ session: null, updateId: '', change });
  }

  /** Stops retrying (leadership over). */
  stop(): void {
    clearTimeout(this.retryTimer);
    this.queue = [];
  }

  private push(q: Queued): void {
    this.queue.push(q);
    if (!this.flushing) void this.flush();
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0 && !this.leader.revoked) {
        // Launch commits go first: a status update only has to be durable before its ack.
        await this.leader.launchesSettled();
        const batch = this.queue.splice(0, MAX_UPDATES_PER_BATCH);
        const ok = await this.leader.serialize(() => this.writeBatch(batch));
        if (!ok) {
          // Not persisted: retry later (nothing was acknowledged).
          this.queue.unshift(...batch);
          this.retryTimer = setTimeout(() => void this.flush(), 200);
          return;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Writes one batch; true when committed (or nothing needed writing). */
  private async writeBatch(batch: Queued[]): Promise<boolean> {
    const working = new Map<string, Task>();
    for (const q of batch) {
      const { taskId, update } = q.change;
      const current = working.get(taskId) ?? this.leader.tasks.get(taskId);
      if (!current || isTerminal(current.state)) continue;
      if (current.state === update.state && !isTerminal(update.state)) continue;
      working.set(taskId, withUpdate(current, update));
    }
    const ops: ZkOp[] = [];
    const ended: Task[] = [];
    for (const task of working.values()) {
      if (isTerminal(task.state)) {
        ops.push(...endTaskOps(task), ...(await this.compactOps(task)));
        ended.push(task);
      } else ops.push(setActiveTaskOp(task));
    }
    if (ops.length > 0) {
      try {
        await this.leader.write(ops);
      } catch (err) {
        for (const t of ended) this.history.get(t.requestId)?.pop();
        if (!isConflict(err)) {
          this.leader.logger.warn({ err, ops: ops.length }, 'status batch not persisted');
          return false;
        }
        // One op conflicts (e.g. a retry of a multi that did commit): go task by task, so
        // one stale transition cannot hold the others back forever.
        this.leader.logger.warn({ err }, 'status batch conflicts; writing task by task');
        const done = await this.writeOneByOne([...working.values()]);
        this.apply([...working.values()].filter((t) => done.has(t.taskId)));
        this.ackAll(
          batch.filter((q) => done.has(q.change.taskId) || !working.has(q.change.taskId)),
        );
        return true;
      }
    }
    this.apply([...working.values()]);
    this.ackAll(batch);
    return true;
  }

  /** Task by task; returns the ids whose transition is (now, or already) in ZooKeeper. */
  private async writeOneByOne(tasks: Task[]): Promise<Set<string>> {
    const done = new Set<string>();
    for (const task of tasks) {
      const terminal = isTerminal(task.state);
      try {
        await this.leader.write(terminal ? endTaskOps(task) : [setActiveTaskOp(task)]);
        done.add(task.taskId);
      } catch (err) {
        if (!isConflict(err)) continue;
        const active = statePaths.taskActive(task.requestId, task.taskId);
        // Its active znode is gone: its end is already recorded (this leader is the only writer).
        if (!(await this.leader.zk.exists(active).catch(() => true))) done.add(task.taskId);
      }
    }
    return done;
  }

  private apply(tasks: Task[]): void {
    const ended: Task[] = [];
    for (const task of tasks) {
      if (isTerminal(task.state)) {
        this.leader.tasks.delete(task.taskId);
        ended.push(task);
      } else this.leader.tasks.set(task.taskId, task);
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

  /** Keeps each request's history bounded: ops removing the oldest entries. */
  private async compactOps(task: Task): Promise<ZkOp[]> {
    let names = this.history.get(task.requestId);
    if (!names) {
      await this.leader.zk.mkdirp(statePaths.tasksHistoryDir(task.requestId));
      names = await childrenOrEmpty(this.leader.zk, statePaths.tasksHistoryDir(task.requestId));
      names.sort((a, b) => launchMs(a) - launchMs(b));
      this.history.set(task.requestId, names);
    }
    names.push(task.taskId);
    const ops: ZkOp[] = [];
    while (names.length > MAX_HISTORY_PER_REQUEST) {
      const oldest = names.shift();
      if (oldest) ops.push(removeHistoryOp(task.requestId, oldest));
    }
    return ops;
  }
}

/** A refusal caused by one op of a multi (not by the fence or the connection). */
function isConflict(err: unknown): boolean {
  if (err instanceof FenceRejectedError || !(err instanceof ZkError)) return false;
  return err.code === 'NO_NODE' || err.code === 'NODE_EXISTS' || err.code === 'BAD_VERSION';
}

/** The launch time inside a task id (`…-<launchMs>-<instanceNo>-<agentId>`), best effort. */
function launchMs(taskId: string): number {
  const m = /-(\d{12,})-\d+-/.exec(taskId);
  return m ? Number(m[1]) : 0;
}
