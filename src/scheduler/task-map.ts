import type { Task } from '../state/index.js';

/**
 * The leader's active tasks by id, noting which requests' tasks changed (set or deleted), so
 * that a cycle re-plans only those. Every writer of the map goes through `set` and `delete`,
 * so no change escapes the note.
 */
export class TaskMap extends Map<string, Task> {
  private changed = new Set<string>();

  override set(taskId: string, task: Task): this {
    // Map's constructor calls set before the field initializer has run.
    (this.changed as Set<string> | undefined)?.add(task.requestId);
    return super.set(taskId, task);
  }

  override delete(taskId: string): boolean {
    const task = this.get(taskId);
    if (task) this.changed.add(task.requestId);
    return super.delete(taskId);
  }

  override clear(): void {
    for (const task of this.values()) this.changed.add(task.requestId);
    super.clear();
  }

  /** Ids of the requests whose tasks changed since the last call. */
  takeChangedRequests(): Set<string> {
    const changed = this.changed;
    this.changed = new Set();
    return changed;
  }
}
