import type { Task } from '../state/index.js';

const NONE: readonly Task[] = [];

/** Tasks grouped by one key of theirs (a request id, an agent id). */
class TaskIndex {
  private readonly groups = new Map<string, Map<string, Task>>();

  constructor(private readonly keyOf: (task: Task) => string) {}

  add(task: Task): void {
    const key = this.keyOf(task);
    let group = this.groups.get(key);
    if (!group) this.groups.set(key, (group = new Map()));
    group.set(task.taskId, task);
  }

  remove(task: Task): void {
    const key = this.keyOf(task);
    const group = this.groups.get(key);
    if (!group) return;
    group.delete(task.taskId);
    if (group.size === 0) this.groups.delete(key);
  }

  of(key: string): readonly Task[] {
    const group = this.groups.get(key);
    return group ? [...group.values()] : NONE;
  }

  clear(): void {
    this.groups.clear();
  }
}

/**
 * The leader's active tasks by id, noting which requests' tasks changed (set or deleted), so
 * that a cycle re-plans only those, and indexed by request, so that work on one request costs
 * its own tasks, not the cluster's; likewise by agent (an agent's registration, and the
 * agents a cycle reconciles again). Every writer of the map goes through `set` and `delete`,
 * so no change escapes the notes or the indexes.
 */
export class TaskMap extends Map<string, Task> {
  private changed = new Set<string>();
  private changedAgents = new Set<string>();
  private byRequest = new TaskIndex((t) => t.requestId);
  private byAgent = new TaskIndex((t) => t.agentId);

  override set(taskId: string, task: Task): this {
    // Map's constructor calls set before the field initializers have run.
    if ((this.byRequest as TaskIndex | undefined) === undefined) return super.set(taskId, task);
    const previous = super.get(taskId);
    if (previous) this.unindex(previous);
    this.note(task);
    this.byRequest.add(task);
    this.byAgent.add(task);
    return super.set(taskId, task);
  }

  override delete(taskId: string): boolean {
    const task = this.get(taskId);
    if (task) this.unindex(task);
    return super.delete(taskId);
  }

  override clear(): void {
    for (const task of this.values()) this.note(task);
    this.byRequest.clear();
    this.byAgent.clear();
    super.clear();
  }

  /** The active tasks of one request. */
  ofRequest(requestId: string): readonly Task[] {
    return this.byRequest.of(requestId);
  }

  /** The active tasks on one agent. */
  ofAgent(agentId: string): readonly Task[] {
    return this.byAgent.of(agentId);
  }

  /** Ids of the requests whose tasks changed since the last call. */
  takeChangedRequests(): Set<string> {
    const changed = this.changed;
    this.changed = new Set();
    return changed;
  }

  /** Ids of the agents whose active tasks changed since the last call. */
  takeChangedAgents(): Set<string> {
    const changed = this.changedAgents;
    this.changedAgents = new Set();
    return changed;
  }

  private note(task: Task): void {
    this.changed.add(task.requestId);
    this.changedAgents.add(task.agentId);
  }

  private unindex(task: Task): void {
    this.note(task);
    this.byRequest.remove(task);
    this.byAgent.remove(task);
  }
}
