import type { Logger } from 'pino';
import type { Coordinator, ZNode } from '../coordination/index.js';
import { type Task, type WatchedState, statePaths, taskSchema } from '../state/index.js';
import { OrderedFeed } from './ordered-feed.js';
import { type RequestParent, toRequestParent } from './request-parent.js';

/** A change of the active tasks: launched or changed (CHANGED), or left the active set (ENDED). */
export interface TaskChange {
  type: 'task';
  kind: 'CHANGED' | 'ENDED';
  task: Task;
}

/** A change of a request or one of its deploys; `parent` is absent once REMOVED. */
export interface RequestChange {
  type: 'request';
  kind: 'CHANGED' | 'REMOVED';
  requestId: string;
  parent?: RequestParent;
}

/** What the cache's feed carries. */
export type StateChange = TaskChange | RequestChange;

/**
 * The API's view of a replica's {@link WatchedState} (requests, deploys and active tasks fed
 * by ZooKeeper watches) and a feed of their changes in the order the cache learnt them. Watch
 * streams read a snapshot and follow the feed from the snapshot's position, so nothing falls
 * between the two. It needs no leadership.
 */
export class StateCache {
  private readonly feed: OrderedFeed<StateChange>;
  /** Request ids changed since the last flush (a deploy promotion touches several znodes). */
  private readonly dirtyRequests = new Set<string>();
  /** Requests the feed has reported as existing (so a removal is reported once). */
  private readonly knownRequests = new Set<string>();
  private flushTimer: NodeJS.Immediate | undefined;
  private readonly onRequest = (requestId: string): void => this.markRequest(requestId);
  private readonly onTaskNodeListener = (
    path: string,
    node: ZNode | null,
    previous: ZNode | undefined,
  ): void => this.onTaskNode(path, node, previous);

  constructor(
    private readonly zk: Coordinator,
    /** The replica's watched state (started and stopped by its owner). */
    readonly state: WatchedState,
    private readonly logger: Logger,
  ) {
    this.feed = new OrderedFeed((err) => logger.warn({ err }, 'state change not delivered'));
  }

  /** Starts following the watched state. */
  start(): void {
    this.state.on('request', this.onRequest);
    this.state.tasksTree.on('node', this.onTaskNodeListener);
  }

  /** Stops following. */
  stop(): void {
    this.state.off('request', this.onRequest);
    this.state.tasksTree.off('node', this.onTaskNodeListener);
    if (this.flushTimer) clearImmediate(this.flushTimer);
  }

  /** Resolves once every tree has loaded what existed at start. */
  whenSynced(): Promise<void> {
    return this.state.whenSynced();
  }

  /** The feed position now (a snapshot taken now reflects every change up to it). */
  get position(): number {
    return this.feed.position;
  }

  /** Follows the feed; `listener` sees changes after `after` only. */
  follow(after: number, listener: (change: StateChange) => void): () => void {
    return this.feed.subscribe((change, seq) => {
      if (seq > after) listener(change);
    });
  }

  /** Every active task, sorted by id. */
  activeTasks(): Task[] {
    return this.state.activeTasks();
  }

  /** Ids of the cached requests, sorted. */
  requestIds(): string[] {
    return this.state.requestIds();
  }

  /** A request with its active and pending deploys, or undefined if the cache has none. */
  requestParent(requestId: string): RequestParent | undefined {
    const stored = this.state.request(requestId);
    if (!stored) return undefined;
    return toRequestParent(
      stored.value,
      this.state.deploysOf(requestId),
      this.state.progressOf(requestId),
    );
  }

  /** A request or its deploys changed: report the request once the burst is over. */
  private markRequest(requestId: string): void {
    this.dirtyRequests.add(requestId);
    this.flushTimer ??= setImmediate(() => this.flushRequests());
  }

  private flushRequests(): void {
    this.flushTimer = undefined;
    for (const requestId of [...this.dirtyRequests].sort()) {
      this.dirtyRequests.delete(requestId);
      const parent = this.requestParent(requestId);
      if (parent) {
        this.knownRequests.add(requestId);
        this.feed.push({ type: 'request', kind: 'CHANGED', requestId, parent });
      } else if (this.knownRequests.delete(requestId)) {
        this.feed.push({ type: 'request', kind: 'REMOVED', requestId });
      }
    }
  }

  private onTaskNode(path: string, node: ZNode | null, previous: ZNode | undefined): void {
    const depth = path.slice(statePaths.tasksActiveRoot.length + 1).split('/').length;
    if (depth !== 2) return; // a request's shard directory, not a task
    if (node) {
      const task = this.state.decode(node, path, taskSchema);
      if (task) this.feed.push({ type: 'task', kind: 'CHANGED', task });
      return;
    }
    const last = previous && this.state.decode(previous, path, taskSchema);
    if (last) this.feed.push(this.endedTask(last));
  }

  /** A task left the active set: its final record is in history (moved in the same multi). */
  private async endedTask(last: Task): Promise<TaskChange> {
    const path = statePaths.taskHistory(last.requestId, last.taskId);
    const node = await this.zk.getOrNull(path).catch((err: unknown) => {
      this.logger.warn({ err, path }, 'ended task: history not read; reporting its last state');
      return null;
    });
    const final = node ? this.state.decode(node, path, taskSchema) : undefined;
    return { type: 'task', kind: 'ENDED', task: final ?? last };
  }
}
