import { EventEmitter } from 'node:events';
import type { Task } from '../state/index.js';

/** Task changes as this leader persists them (for the gRPC WatchTasks stream). */
export class TaskEvents extends EventEmitter<{ task: [Task]; revoked: [] }> {
  constructor() {
    super();
    this.setMaxListeners(1000);
  }

  /** Publishes a persisted task change. */
  emitTask(task: Task): void {
    this.emit('task', task);
  }
}
