import { EventEmitter } from 'node:events';
import type { Coordinator, ZNode } from './coordinator.js';
import { watchChildren, watchNode, type Unwatch } from './node-watch.js';

/** Events of a {@link TreeCache}. */
export interface TreeCacheEvents {
  /** Something under the root changed (or freshness changed). */
  change: [];
}

/**
 * A watched, in-memory copy of a subtree (the root's descendants down to `depth`), used to
 * serve reads without a ZooKeeper round trip. While the connection is down the copy stays
 * readable and {@link TreeCache.fresh} says it may be out of date.
 */
export class TreeCache extends EventEmitter<TreeCacheEvents> {
  private readonly nodes = new Map<string, ZNode>();
  private readonly unwatchers = new Map<string, Unwatch[]>();
  private readonly onConnectivity = (): void => {
    this.emit('change');
  };

  constructor(
    private readonly zk: Coordinator,
    readonly root: string,
    private readonly depth = 1,
  ) {
    super();
  }

  /** Starts watching. */
  start(): void {
    this.track(this.root, 0);
    for (const e of ['session', 'reconnected', 'disconnected', 'expired'] as const) {
      this.zk.on(e, this.onConnectivity);
    }
  }

  /** Stops all watches. */
  stop(): void {
    for (const list of this.unwatchers.values()) for (const u of list) u();
    this.unwatchers.clear();
    for (const e of ['session', 'reconnected', 'disconnected', 'expired'] as const) {
      this.zk.off(e, this.onConnectivity);
    }
  }

  /** Whether the copy reflects ZooKeeper now (connected and watching). */
  get fresh(): boolean {
    return this.zk.ready;
  }

  /** The cached znode at `path`, if any. */
  get(path: string): ZNode | undefined {
    return this.nodes.get(path);
  }

  /** Cached direct children of `path`: name → znode, sorted by name. */
  children(path: string): [string, ZNode][] {
    const prefix = path === '/' ? '/' : `${path}/`;
    const out: [string, ZNode][] = [];
    for (const [p, node] of this.nodes) {
      if (p.startsWith(prefix) && !p.slice(prefix.length).includes('/')) {
        out.push([p.slice(prefix.length), node]);
      }
    }
    return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  private track(path: string, level: number): void {
    const stops: Unwatch[] = [
      watchNode(this.zk, path, (node) => {
        if (node) this.nodes.set(path, node);
        else this.nodes.delete(path);
        this.emit('change');
      }),
    ];
    if (level < this.depth) {
      stops.push(watchChildren(this.zk, path, (names) => this.syncChildren(path, level, names)));
    }
    this.unwatchers.set(path, stops);
  }

  private syncChildren(path: string, level: number, names: string[]): void {
    const prefix = path === '/' ? '/' : `${path}/`;
    const wanted = new Set(names.map((n) => prefix + n));
    for (const tracked of [...this.unwatchers.keys()]) {
      const isChild = tracked.startsWith(prefix) && !tracked.slice(prefix.length).includes('/');
      if (isChild && !wanted.has(tracked)) this.untrack(tracked);
    }
    for (const child of wanted) if (!this.unwatchers.has(child)) this.track(child, level + 1);
    this.emit('change');
  }

  private untrack(path: string): void {
    for (const [p, stops] of [...this.unwatchers]) {
      if (p === path || p.startsWith(`${path}/`)) {
        for (const u of stops) u();
        this.unwatchers.delete(p);
        this.nodes.delete(p);
      }
    }
  }
}
