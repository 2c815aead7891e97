import type { Task } from '../state/index.js';

const NONE: readonly Task[] = [];

/**
 * The leader's active tasks by id, noting which requests' tasks changed (set or deleted), so
 * that a cycle re-plans only those, and indexed by request, so that work on one request costs
 * its own tasks, not the cluster's. Every writer of the map goes through `set` and `delete`,
 * so no change escapes the note or the index.
 */
export class TaskMap extends Map<string, Task> {
  private changed = new Set<string>();
  private byRequest = new Map<string, Map<string, Task>>();

  override set(taskId: string, task: Task): this {
    // Map's constructor calls set before the field initializers have run.
    if ((this.byRequest as Map<string, Map<string, Task>> | undefined) === undefined) {
      return super.set(taskId, task);
    }
    const previous = super.get(taskId);
    if (previous && previous.requestId !== task.requestId) this.unindex(previous);
    this.changed.add(task.requestId);
    let mine = this.byRequest.get(task.requestId);
    if (!mine) this.byRequest.set(task.requestId, (mine = new Map()));
    mine.set(taskId, task);
    return super.set(taskId, task);
  }

  override delete(taskId: string): boolean {
    const task = this.get(taskId);
    if (task) {
      this.changed.add(task.requestId);
      this.unindex(task);
    }
    return super.delete(taskId);
  }

  override clear(): void {
    for (const task of this.values()) this.changed.add(task.requestId);
    this.byRequest.clear();
    super.clear();
  }

  /** The active tasks of one request. */
  ofRequest(requestId: string): readonly Task[] {
    const mine = this.byRequest.get(requestId);
    return mine ? [...mine.values()] : NONE;
  }

  /** Ids of the requests whose tasks changed since the last call. */
  takeChangedRequests(): Set<string> {
    const changed = this.changed;
    this.changed = new Set();
    return changed;
  }

  private unindex(task: Task): void {
    const mine = this.byRequest.get(task.requestId);
    if (!mine) return;
    mine.delete(task.taskId);
    if (mine.size === 0) this.byRequest.delete(task.requestId);
  }
}
