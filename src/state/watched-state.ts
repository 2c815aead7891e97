import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { z } from 'zod';
import { type Coordinator, TreeCache, type ZNode, decodeJson } from '../coordination/index.js';
import { type Deploy, deploySchema } from './deploy-model.js';
import { type DeployProgress, deployProgressSchema } from './deploy-progress-model.js';
import { type RequestRecord, requestRecordSchema } from './request-model.js';
import { statePaths } from './state-paths.js';
import { type Task, taskSchema } from './task-model.js';
import type { Versioned } from './zk-json-store.js';

/** Events of a {@link WatchedState}. */
export interface WatchedStateEvents {
  /** `/requests/<id>` or something under `/deploys/<id>` changed (the cache holds it). */
  request: [requestId: string];
}

/** Thrown when the cache does not catch up within the wait a caller allows. */
export class CacheLagError extends Error {
  override readonly name = 'CacheLagError';
}

/**
 * Resolves once every tree of `trees` is loaded and has applied every change notified so far
 * (see {@link TreeCache.settled}); rejects with {@link CacheLagError} after `maxWaitMs`. The
 * timer is cleared either way, so a caller that waits every cycle leaves none behind.
 */
export async function treesCaughtUp(trees: readonly TreeCache[], maxWaitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new CacheLagError(`state cache not caught up within ${maxWaitMs} ms`)),
      maxWaitMs,
    );
  });
  try {
    await Promise.race([
      (async () => {
        await Promise.all(trees.map((tree) => tree.whenSynced()));
        await Promise.all(trees.map((tree) => tree.settled()));
      })(),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Every replica's watched, in-memory copy of the desired state (requests and all their
 * deploys) and of the active tasks: {@link TreeCache}s, one watch per znode, versions kept for
 * compare-and-set, each znode decoded once per version. The leader plans on it, the API
 * answers reads from it; it needs no leadership and outlives leaderships, so a takeover
 * starts from a loaded copy instead of reading the whole cluster.
 */
export class WatchedState extends EventEmitter<WatchedStateEvents> {
  /** `/requests/*`. */
  readonly requestsTree: TreeCache;
  /** `/deploys/<rid>/{active,pending,history}/<did>` and `/deploys/<rid>/progress`. */
  readonly deploysTree: TreeCache;
  /** `/tasks/active/<rid>/<taskId>`. */
  readonly tasksTree: TreeCache;
  private readonly decoded = new WeakMap<ZNode, unknown>();
  private readonly decodeErrors: Counter | undefined;
  private freshAt = Date.now();

  constructor(
    private readonly zk: Coordinator,
    private readonly logger: Logger,
    registry?: Registry,
  ) {
    super();
    this.setMaxListeners(100);
    this.requestsTree = new TreeCache(zk, statePaths.requestsDir, 1);
    // The per-request directories are only containers: their data (empty, or the pending
    // directory's compare-and-set marker) is never read from the cache, and skipping it saves
    // each replica 4 reads per new request and one per later deploy. `progress` has data.
    this.deploysTree = new TreeCache(
      zk,
      statePaths.deploysRoot,
      3,
      undefined,
      (path, level) => level === 1 || (level === 2 && !path.endsWith('/progress')),
    );
    this.tasksTree = new TreeCache(
      zk,
      statePaths.tasksActiveRoot,
      2,
      undefined,
      (_path, level) => level === 1,
    );
    this.decodeErrors = registry
      ? new Counter({
          name: 'thales_api_cache_decode_errors_total',
          help: 'Znodes the state cache could not decode (skipped)',
          registers: [registry],
        })
      : undefined;
    this.requestsTree.on('node', (path) => this.onRequestNode(path, statePaths.requestsDir));
    this.deploysTree.on('node', (path) => this.onRequestNode(path, statePaths.deploysRoot));
  }

  /** Starts watching. */
  start(): void {
    for (const tree of this.trees()) tree.start();
  }

  /** Stops watching. */
  stop(): void {
    for (const tree of this.trees()) tree.stop();
  }

  /** Whether every tree has loaded what existed at start. */
  get synced(): boolean {
    return this.trees().every((tree) => tree.synced);
  }

  /** Resolves once every tree has loaded what existed at start. */
  async whenSynced(): Promise<void> {
    await Promise.all(this.trees().map((tree) => tree.whenSynced()));
  }

  /**
   * Resolves once loaded and every change notified so far is applied (see
   * {@link TreeCache.settled}); after a write or barrier of this session, the copy then
   * reflects at least what ZooKeeper held when it answered. Rejects with
   * {@link CacheLagError} after `maxWaitMs`.
   */
  async caughtUp(maxWaitMs: number, trees: TreeCache[] = this.trees()): Promise<void> {
    await treesCaughtUp(trees, maxWaitMs);
  }

  /**
   * How old the copy may be, in ms: 0 while connected and loaded, else the time since it was
   * last known current (what the APIs report as the view's age).
   */
  viewAgeMs(now = Date.now()): number {
    if (this.zk.ready && this.synced) {
      this.freshAt = now;
      return 0;
    }
    return Math.max(0, now - this.freshAt);
  }

  /** Ids of the cached requests, sorted. */
  requestIds(): string[] {
    return this.requestsTree.children(statePaths.requestsDir).map(([id]) => id);
  }

  /** A cached request record with its znode version, or undefined. */
  request(requestId: string): Versioned<RequestRecord> | undefined {
    const path = statePaths.request(requestId);
    const node = this.requestsTree.get(path);
    const value = node && this.decode(node, path, requestRecordSchema);
    return node && value ? { value, version: node.version } : undefined;
  }

  /** The active and pending deploy of a request, as cached. */
  deploysOf(requestId: string): { active: Deploy | null; pending: Deploy | null } {
    return {
      active: this.firstDeploy(requestId, 'active'),
      pending: this.firstDeploy(requestId, 'pending'),
    };
  }

  /** The progress of a request's deploy or bounce, as cached. */
  progressOf(requestId: string): DeployProgress | null {
    const path = statePaths.deployProgress(requestId);
    const node = this.deploysTree.get(path);
    return (node && this.decode(node, path, deployProgressSchema)) ?? null;
  }

  /** A deploy of a request wherever it is kept (active, pending, history), as cached. */
  findDeploy(requestId: string, deployId: string): Deploy | undefined {
    for (const kind of ['active', 'pending', 'history'] as const) {
      const path = statePaths.deploy(requestId, kind, deployId);
      const node = this.deploysTree.get(path);
      const deploy = node && this.decode(node, path, deploySchema);
      if (deploy) return deploy;
    }
    return undefined;
  }

  /** Every cached active task, sorted by id. */
  activeTasks(): Task[] {
    const out: Task[] = [];
    for (const requestId of this.tasksTree.childNames(statePaths.tasksActiveRoot)) {
      out.push(...this.activeTasksOf(requestId));
    }
    return out.sort((a, b) => (a.taskId < b.taskId ? -1 : 1));
  }

  /** The cached active tasks of one request. */
  activeTasksOf(requestId: string): Task[] {
    const out: Task[] = [];
    const dir = statePaths.tasksActiveDir(requestId);
    for (const [name, node] of this.tasksTree.children(dir)) {
      const task = this.decode(node, `${dir}/${name}`, taskSchema);
      if (task) out.push(task);
    }
    return out;
  }

  /** Decodes a cached znode once per version (a changed znode is a new object). */
  decode<T>(node: ZNode, path: string, schema: z.ZodType<T>): T | undefined {
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

  /** The trees the desired state lives in (what the leader waits on before planning). */
  desiredTrees(): TreeCache[] {
    return [this.requestsTree, this.deploysTree];
  }

  private trees(): TreeCache[] {
    return [this.requestsTree, this.deploysTree, this.tasksTree];
  }

  private firstDeploy(requestId: string, kind: 'active' | 'pending'): Deploy | null {
    const dir = statePaths.deployDir(requestId, kind);
    const [first] = this.deploysTree.children(dir);
    return (first && this.decode(first[1], `${dir}/${first[0]}`, deploySchema)) ?? null;
  }

  private onRequestNode(path: string, root: string): void {
    const requestId = path.slice(root.length + 1).split('/')[0];
    if (requestId) this.emit('request', requestId);
  }
}
