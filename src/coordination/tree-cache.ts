import { EventEmitter } from 'node:events';
import type { Coordinator, ZNode } from './coordinator.js';
import { watchChildren, watchNode, type Unwatch, type WatchHooks } from './node-watch.js';

/** Events of a {@link TreeCache}. */
export interface TreeCacheEvents {
  /** Something under the root changed (or freshness changed). */
  change: [];
  /**
   * One znode's content changed: `node` is its new content (with its version), or null once it
   * is gone; `previous` what the cache held before (undefined when it is new). Emitted after the
   * cache holds the new state, in the order the cache learnt the changes.
   */
  node: [path: string, node: ZNode | null, previous: ZNode | undefined];
  /** Every znode known at start has been read once (see {@link TreeCache.synced}). */
  synced: [];
}

/** What the cache tracks of one path: its watches, and whether it was read yet. */
interface Tracked {
  path: string;
  stops: Unwatch[];
  /** Reads still owed before this path counts as loaded (its data, its children list). */
  owed: number;
}

/**
 * A watched, in-memory copy of a subtree (the root's descendants down to `depth`), used to
 * serve reads without a ZooKeeper round trip. One data watch per znode and one children watch
 * per znode above `depth`, re-armed after every event and every new session; versions are
 * kept for compare-and-set. While the connection is down the copy stays readable and
 * {@link TreeCache.fresh} says it may be out of date; after a new session every znode is read
 * again and only real differences are reported.
 */
export class TreeCache extends EventEmitter<TreeCacheEvents> {
  private readonly nodes = new Map<string, ZNode>();
  /** parent path → names of its tracked children. */
  private readonly childIndex = new Map<string, Set<string>>();
  private readonly tracked = new Map<string, Tracked>();
  private owedReads = 0;
  private loaded = false;
  /**
   * Catch-up tickets: each watch whose newest read is not applied yet owes the ticket of the
   * oldest change it has not applied (a new watch inherits the ticket of the read that found
   * it). See {@link TreeCache.settled}.
   */
  private readonly owing = new Map<object, number>();
  /**
   * ticket → watches owing it. Keys are inserted in ascending order (a fresh ticket is the
   * highest yet; an inherited one is still owed by its finder), so the first key is the oldest.
   */
  private readonly ticketCounts = new Map<number, number>();
  private ticketSeq = 0;
  private inheritedTicket: number | undefined;
  private settleWaiters: { ticket: number; resolve: () => void }[] = [];
  private readonly onConnectivity = (): void => {
    this.emit('change');
  };

  constructor(
    private readonly zk: Coordinator,
    readonly root: string,
    private readonly depth = 1,
    /** Descendants not to watch (a znode rewritten often that no reader of the cache needs). */
    private readonly ignore: (path: string) => boolean = () => false,
    /**
     * Directories above `depth` whose own data no reader needs: only their children are
     * watched (no data read when one appears or its data is rewritten), and they are not in
     * {@link get}; their children are, and {@link children} lists those.
     */
    private readonly dataless: (path: string, level: number) => boolean = () => false,
  ) {
    super();
    this.setMaxListeners(1_000);
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
    for (const { stops } of this.tracked.values()) for (const u of stops) u();
    this.tracked.clear();
    this.owing.clear();
    this.ticketCounts.clear();
    this.releaseSettled();
    for (const e of ['session', 'reconnected', 'disconnected', 'expired'] as const) {
      this.zk.off(e, this.onConnectivity);
    }
  }

  /** Whether the copy reflects ZooKeeper now (connected and watching). */
  get fresh(): boolean {
    return this.zk.ready;
  }

  /**
   * Whether the first load is complete: every znode the cache has learnt of (children of
   * children included) has been read once. Before that, an empty answer may mean "not read yet".
   */
  get synced(): boolean {
    return this.loaded;
  }

  /** Resolves once {@link synced}. */
  whenSynced(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    return new Promise((resolve) => this.once('synced', resolve));
  }

  /**
   * Resolves once the cache has applied every change it had been notified of when called, and
   * every znode those changes revealed. ZooKeeper delivers a session's watch events before
   * the answer to any later request of the session, so after a write or a read barrier of the
   * same session returns, `settled()` means the copy reflects at least the state the barrier
   * saw. It waits while reads cannot complete (disconnected): callers bound the wait.
   */
  settled(): Promise<void> {
    const ticket = this.ticketSeq;
    if (this.oldestOwed() > ticket) return Promise.resolve();
    return new Promise((resolve) => this.settleWaiters.push({ ticket, resolve }));
  }

  /** The cached znode at `path`, if any. */
  get(path: string): ZNode | undefined {
    return this.nodes.get(path);
  }

  /** Cached direct children of `path`: name → znode, sorted by name. */
  children(path: string): [string, ZNode][] {
    const names = [...(this.childIndex.get(path) ?? [])].sort();
    const prefix = path === '/' ? '/' : `${path}/`;
    const out: [string, ZNode][] = [];
    for (const name of names) {
      const node = this.nodes.get(prefix + name);
      if (node) out.push([name, node]);
    }
    return out;
  }

  /** Names of the tracked children of `path` (read or not yet), sorted. */
  childNames(path: string): string[] {
    return [...(this.childIndex.get(path) ?? [])].sort();
  }

  private track(path: string, level: number): void {
    const hasChildren = level < this.depth;
    const hasData = !(hasChildren && this.dataless(path, level));
    const entry: Tracked = { path, stops: [], owed: (hasChildren ? 1 : 0) + (hasData ? 1 : 0) };
    this.tracked.set(path, entry);
    this.owedReads += entry.owed;
    if (hasData) this.watchData(entry);
    if (hasChildren) this.watchChildNames(entry, level);
  }

  private watchData(entry: Tracked): void {
    const { path } = entry;
    let dataRead = false;
    const dataHooks = this.ticketHooks();
    entry.stops.push(
      watchNode(
        this.zk,
        path,
        (node) => {
          if (!dataRead) {
            dataRead = true;
            this.repay(entry);
          }
          this.setNode(path, node);
          this.emit('change');
        },
        dataHooks,
      ),
      () => this.forgive(dataHooks),
    );
  }

  private watchChildNames(entry: Tracked, level: number): void {
    const { path } = entry;
    let childrenRead = false;
    const childHooks = this.ticketHooks();
    entry.stops.push(
      watchChildren(
        this.zk,
        path,
        (names) => {
          // Watches of children found by this read owe what this read owes.
          this.inheritedTicket = this.owing.get(childHooks);
          try {
            this.syncChildren(path, level, names);
          } finally {
            this.inheritedTicket = undefined;
          }
          if (!childrenRead) {
            childrenRead = true;
            this.repay(entry);
          }
          this.emit('change');
        },
        childHooks,
        false,
      ),
      () => this.forgive(childHooks),
    );
  }

  /** Hooks of one watch: it owes a ticket from its first unapplied read to the applied one. */
  private ticketHooks(): WatchHooks {
    const hooks: WatchHooks = {
      armed: () => {
        if (this.owing.has(hooks)) return;
        const ticket = this.inheritedTicket ?? ++this.ticketSeq;
        this.owing.set(hooks, ticket);
        this.ticketCounts.set(ticket, (this.ticketCounts.get(ticket) ?? 0) + 1);
      },
      applied: () => this.forgive(hooks),
    };
    return hooks;
  }

  private forgive(hooks: WatchHooks): void {
    const ticket = this.owing.get(hooks);
    if (ticket === undefined) return;
    this.owing.delete(hooks);
    const left = (this.ticketCounts.get(ticket) ?? 1) - 1;
    if (left > 0) {
      this.ticketCounts.set(ticket, left);
      return;
    }
    this.ticketCounts.delete(ticket);
    this.releaseSettled();
  }

  private oldestOwed(): number {
    for (const ticket of this.ticketCounts.keys()) return ticket;
    return Infinity;
  }

  private releaseSettled(): void {
    if (this.settleWaiters.length === 0) return;
    const oldest = this.oldestOwed();
    const waiting = this.settleWaiters;
    this.settleWaiters = [];
    for (const w of waiting) {
      if (oldest > w.ticket || this.tracked.size === 0) w.resolve();
      else this.settleWaiters.push(w);
    }
  }

  /** One owed read of `entry` is done; the cache is synced when none is owed anywhere. */
  private repay(entry: Tracked): void {
    if (entry.owed <= 0 || this.tracked.get(entry.path) !== entry) return;
    entry.owed--;
    this.owedReads--;
    this.markSyncedIfDone();
  }

  private setNode(path: string, node: ZNode | null): void {
    const previous = this.nodes.get(path);
    if (node) {
      if (previous && previous.version === node.version && previous.data.equals(node.data)) return;
      this.nodes.set(path, node);
    } else {
      if (!previous) return;
      this.nodes.delete(path);
    }
    this.emit('node', path, node, previous);
  }

  private syncChildren(path: string, level: number, names: string[]): void {
    // Runs on every change of a directory, with all its children: one pass, no copies, and
    // the removal scan only when some known child is missing from `names`.
    const prefix = path === '/' ? '/' : `${path}/`;
    let current = this.childIndex.get(path);
    if (!current) {
      current = new Set<string>();
      this.childIndex.set(path, current);
    }
    let kept = 0;
    const added: string[] = [];
    for (const name of names) {
      if (current.has(name)) kept++;
      else if (!this.ignore(prefix + name)) added.push(name);
    }
    if (kept < current.size) {
      const listed = new Set(names);
      for (const name of [...current]) if (!listed.has(name)) this.untrack(prefix + name);
    }
    for (const name of added) {
      current.add(name);
      this.track(prefix + name, level + 1);
    }
  }

  /** Stops watching `path` and its descendants; reports each cached one as removed (deepest first). */
  private untrack(path: string): void {
    for (const name of [...(this.childIndex.get(path) ?? [])]) this.untrack(`${path}/${name}`);
    const entry = this.tracked.get(path);
    if (entry) {
      for (const u of entry.stops) u();
      this.owedReads -= entry.owed;
      this.tracked.delete(path);
    }
    this.childIndex.delete(path);
    this.setNode(path, null);
    const slash = path.lastIndexOf('/');
    const parent = slash <= 0 ? '/' : path.slice(0, slash);
    this.childIndex.get(parent)?.delete(path.slice(slash + 1));
    this.markSyncedIfDone();
  }

  private markSyncedIfDone(): void {
    if (this.owedReads === 0 && !this.loaded) {
      this.loaded = true;
      this.emit('synced');
    }
  }
}
