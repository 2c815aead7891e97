import type { Coordinator, ZkOp } from '../coordination/index.js';
import { StateError } from './state-error.js';
import { statePaths } from './state-paths.js';
import { type Task, taskSchema } from './task-model.js';
import { childrenOrEmpty, readChildren, readJson, toData } from './zk-json-store.js';

/** Ended tasks kept per request in `/tasks/history/<requestId>`; older ones are compacted. */
export const MAX_HISTORY_PER_REQUEST = 200;

/**
 * Reads of `/tasks/active/<requestId>/<taskId>` and `/tasks/history/<requestId>/<taskId>`
 * (any replica), and the ops of the leader's fenced writes to them.
 */
export class TaskStore {
  constructor(private readonly zk: Coordinator) {}

  /** Active tasks of one request. */
  async activeOf(requestId: string): Promise<Task[]> {
    const docs = await readChildren(this.zk, statePaths.tasksActiveDir(requestId), taskSchema);
    return docs.map((d) => d.value);
  }

  /** Every active task (one read per request shard, then per task). */
  async allActive(): Promise<Task[]> {
    const rids = await childrenOrEmpty(this.zk, statePaths.tasksActiveRoot);
    const per = await Promise.all(rids.map((r) => this.activeOf(r)));
    return per.flat();
  }

  /** Ended tasks of one request, newest first. */
  async historyOf(requestId: string): Promise<Task[]> {
    const docs = await readChildren(this.zk, statePaths.tasksHistoryDir(requestId), taskSchema);
    return docs.map((d) => d.value).sort((a, b) => lastAt(b) - lastAt(a));
  }

  /** A task by id, active or ended, or NOT_FOUND. */
  async get(taskId: string): Promise<Task> {
    for (const rid of await this.requestIdsOf(taskId)) {
      const active = await readJson(this.zk, statePaths.taskActive(rid, taskId), taskSchema);
      if (active) return active.value;
      const ended = await readJson(this.zk, statePaths.taskHistory(rid, taskId), taskSchema);
      if (ended) return ended.value;
    }
    throw new StateError('NOT_FOUND', `task ${taskId} does not exist`);
  }

  /** Request ids a task id may belong to (request ids may contain `-`). */
  private async requestIdsOf(taskId: string): Promise<string[]> {
    const [a, h] = await Promise.all([
      childrenOrEmpty(this.zk, statePaths.tasksActiveRoot),
      childrenOrEmpty(this.zk, statePaths.tasksHistoryRoot),
    ]);
    return [...new Set([...a, ...h])].filter((rid) => taskId.startsWith(`${rid}-`));
  }
}

function lastAt(t: Task): number {
  return t.updates[t.updates.length - 1]?.at ?? t.startedAt;
}

/** Op creating an active task (leader, fenced). */
export function createActiveTaskOp(task: Task): ZkOp {
  const path = statePaths.taskActive(task.requestId, task.taskId);
  return { op: 'create', path, data: toData(task, path) };
}

/** Op rewriting an active task (leader, fenced; the leader is its only writer). */
export function setActiveTaskOp(task: Task): ZkOp {
  const path = statePaths.taskActive(task.requestId, task.taskId);
  return { op: 'set', path, data: toData(task, path), version: -1 };
}

/** Ops moving an ended task from active to history (leader, fenced). */
export function endTaskOps(task: Task): ZkOp[] {
  const hist = statePaths.taskHistory(task.requestId, task.taskId);
  return [
    { op: 'remove', path: statePaths.taskActive(task.requestId, task.taskId), version: -1 },
    { op: 'create', path: hist, data: toData(task, hist) },
  ];
}

/** Op removing one compacted history entry. */
export function removeHistoryOp(requestId: string, taskId: string): ZkOp {
  return { op: 'remove', path: statePaths.taskHistory(requestId, taskId), version: -1 };
}
