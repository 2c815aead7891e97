import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { z } from 'zod';
import { type Coordinator, TreeCache, type ZNode, decodeJson } from '../coordination/index.js';
import {
  type Deploy,
  type Task,
  deploySchema,
  requestRecordSchema,
  statePaths,
  taskSchema,
} from '../state/index.js';
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
 * Every replica's in-memory copy of requests, deploys and active tasks, fed by ZooKeeper
 * watches ({@link TreeCache}: one watch per znode, versions kept), and a feed of their changes
 * in the order the cache learnt them. Watch streams read a snapshot and follow the feed from
 * the snapshot's position, so nothing falls between the two. It needs no leadership.
 */
export class StateCache {
  private readonly requestsTree: TreeCache;
  private readonly deploysTree: TreeCache;
  private readonly tasksTree: TreeCache;
  private readonly feed: OrderedFeed<StateChange>;
  private readonly decodeErrors: Counter | undefined;
  /** Request ids changed since the last flush (a deploy promotion touches several znodes). */
  private readonly dirtyRequests = new Set<string>();
  /** Requests the feed has reported as existing (so a removal is reported once). */
  private readonly knownRequests = new Set<string>();
  private flushTimer: NodeJS.Immediate | undefined;
  private readonly decoded = new WeakMap<ZNode, unknown>();

  constructor(
    private readonly zk: Coordinator,
    private readonly logger: Logger,
    registry?: Registry,
  ) {
    this.requestsTree = new TreeCache(zk, statePaths.requestsDir, 1);
    this.deploysTree = new TreeCache(zk, statePaths.deploysRoot, 3);
    this.tasksTree = new TreeCache(zk, statePaths.tasksActiveRoot, 2);
    this.feed = new OrderedFeed((err) => logger.warn({ err }, 'state change not delivered'));
    this.decodeErrors = registry
      ? new Counter({
          name: 'thales_api_cache_decode_errors_total',
          help: 'Znodes the API state cache could not decode (skipped)',
          registers: [registry],
        })
      : undefined;
    this.requestsTree.on('node', (path) => this.markRequest(path, statePaths.requestsDir));
    this.deploysTree.on('node', (path) => this.markRequest(path, statePaths.deploysRoot));
    this.tasksTree.on('node', (path, node, previous) => this.onTaskNode(path, node, previous));
  }

  /** Starts watching. */
  start(): void {
    for (const tree of this.trees()) tree.start();
  }

  /** Stops watching. */
  stop(): void {
    for (const tree of this.trees()) tree.stop();
    if (this.flushTimer) clearImmediate(this.flushTimer);
  }

  /** Resolves once every tree has loaded what existed at start. */
  async whenSynced(): Promise<void> {
    await Promise.all(this.trees().map((tree) => tree.whenSynced()));
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
    const out: Task[] = [];
    for (const [requestId] of this.tasksTree.children(statePaths.tasksActiveRoot)) {
      const dir = statePaths.tasksActiveDir(requestId);
      for (const [name, node] of this.tasksTree.children(dir)) {
        const task = this.decode(node, `${dir}/${name}`, taskSchema);
        if (task) out.push(task);
      }
    }
    return out.sort((a, b) => (a.taskId < b.taskId ? -1 : 1));
  }

  /** Ids of the cached requests, sorted. */
  requestIds(): string[] {
    return this.requestsTree.children(statePaths.requestsDir).map(([id]) => id);
  }

  /** A request with its active and pending deploys, or undefined if the cache has none. */
  requestParent(requestId: string): RequestParent | undefined {
    const node = this.requestsTree.get(statePaths.request(requestId));
    const record = node && this.decode(node, statePaths.request(requestId), requestRecordSchema);
    if (!record) return undefined;
    return toRequestParent(record, {
      active: this.firstDeploy(requestId, 'active'),
      pending: this.firstDeploy(requestId, 'pending'),
    });
  }

  private trees(): TreeCache[] {
    return [this.requestsTree, this.deploysTree, this.tasksTree];
  }

  private firstDeploy(requestId: string, kind: 'active' | 'pending'): Deploy | null {
    const dir = statePaths.deployDir(requestId, kind);
    const [first] = this.deploysTree.children(dir);
    return (first && this.decode(first[1], `${dir}/${first[0]}`, deploySchema)) ?? null;
  }

  /** `/requests/<id>` or `/deploys/<id>/…` changed: report the request once the burst is over. */
  private markRequest(path: string, root: string): void {
    const requestId = path.slice(root.length + 1).split('/')[0];
    if (!requestId) return;
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
      const task = this.decode(node, path, taskSchema);
      if (task) this.feed.push({ type: 'task', kind: 'CHANGED', task });
      return;
    }
    const last = previous && this.decode(previous, path, taskSchema);
    if (last) this.feed.push(this.endedTask(last));
  }

  /** A task left the active set: its final record is in history (moved in the same multi). */
  private async endedTask(last: Task): Promise<TaskChange> {
    const path = statePaths.taskHistory(last.requestId, last.taskId);
    const node = await this.zk.getOrNull(path).catch((err: unknown) => {
      this.logger.warn({ err, path }, 'ended task: history not read; reporting its last state');
      return null;
    });
    const final = node ? this.decode(node, path, taskSchema) : undefined;
    return { type: 'task', kind: 'ENDED', task: final ?? last };
  }

  /** Decodes a cached znode once per version (a changed znode is a new object). */
  private decode<T>(node: ZNode, path: string, schema: z.ZodType<T>): T | undefined {
    if (this.decoded.has(node)) return this.decoded.get(node) as T | undefined;
    let value: T | undefined;
    try {
      value = decodeJson(node.data, path, schema);
    } catch (err) {
      this.decodeErrors?.inc();
      this.logger.warn({ err, path }, 'cached znode not decodable; skipped');
    }
    this.decoded.set(node, value);
    return value;
  }
}
