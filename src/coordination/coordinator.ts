import { EventEmitter } from 'node:events';
import zookeeper from 'node-zookeeper-client';
import type { Logger } from 'pino';
import { detach } from '../runtime/index.js';
import { PERSISTENT_DIRS } from './zk-paths.js';
import { ZK_RETRY_POLICY, ZkError, toZkError, type ZkErrorCode } from './zk-errors.js';
import { ZkSession, type ConnectionState } from './zk-session.js';

/** A znode's data and the stat fields Thales uses. */
export interface ZNode {
  data: Buffer;
  version: number;
  /** Session id (hex) of the owner of an ephemeral znode; empty for persistent ones. */
  ephemeralOwner: string;
  /** Modification time in ms since the epoch. */
  mtime: number;
}

/** One operation of a `multi`. Paths are relative to the chroot. */
export type ZkOp =
  | { op: 'create'; path: string; data: Buffer; mode?: 'persistent' | 'ephemeral' }
  | { op: 'set'; path: string; data: Buffer; version: number }
  | { op: 'remove'; path: string; version: number }
  | { op: 'check'; path: string; version: number };

/** A fencing token: a znode that must still exist with this version for a write to land. */
export interface Fence {
  path: string;
  version: number;
}

/** A fenced `multi` whose fence check failed: the writer no longer holds what it claimed. */
export class FenceRejectedError extends Error {
  override readonly name = 'FenceRejectedError';
  constructor(
    readonly fence: Fence,
    cause: ZkError,
  ) {
    super(`write fenced out: ${fence.path} (${cause.code})`, { cause });
  }
}

/** A watcher callback; receives nothing: re-read to see what changed. */
export type Watcher = () => void;

/** Options for {@link Coordinator}. */
export interface CoordinatorOptions {
  connectString: string;
  /** Every path is under this prefix (`/thales` by default). */
  chroot: string;
  sessionTimeoutMs: number;
  /** How long one call may wait (including for a reconnection) before it fails. */
  opTimeoutMs?: number;
  logger: Logger;
}

const MODES = {
  persistent: zookeeper.CreateMode.PERSISTENT,
  ephemeral: zookeeper.CreateMode.EPHEMERAL,
  persistentSequential: zookeeper.CreateMode.PERSISTENT_SEQUENTIAL,
  ephemeralSequential: zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
} as const;

/** How a znode is created. */
export type CreateMode = keyof typeof MODES;

/** Connection events as components see them. */
export interface CoordinatorEvents {
  /** A new session is connected and the base directories exist: (re)build session state. */
  session: [{ sessionId: string }];
  /** The same session is back after a disconnection: watches and ephemerals survived. */
  reconnected: [];
  /** The connection dropped; the session may still come back. */
  disconnected: [];
  /** The session is gone; its ephemerals and watches with it. A new one is on its way. */
  expired: [];
}

/**
 * The promise-based, chrooted view of ZooKeeper every component uses: reads, compare-and-set
 * writes by version, `multi` with an optional fence, and the session's connection events.
 */
export class Coordinator extends EventEmitter<CoordinatorEvents> {
  readonly session: ZkSession;
  private readonly opTimeoutMs: number;
  private sessionReady = false;
  private reads = 0;

  constructor(readonly options: CoordinatorOptions) {
    super();
    this.setMaxListeners(100);
    this.session = new ZkSession(options);
    this.opTimeoutMs = options.opTimeoutMs ?? Math.max(options.sessionTimeoutMs, 2_000);
    this.session.on('connected', ({ newSession, sessionId }) => {
      if (newSession) detach(this.onNewSession(sessionId), options.logger, 'new session setup');
      else if (this.sessionReady) this.emit('reconnected');
    });
    this.session.on('disconnected', () => this.emit('disconnected'));
    this.session.on('expired', () => {
      this.sessionReady = false;
      this.emit('expired');
    });
  }

  /** True once the current session is connected and its base directories exist. */
  get ready(): boolean {
    return this.sessionReady && this.session.state === 'connected';
  }

  /** The connection state now. */
  get state(): ConnectionState {
    return this.session.state;
  }

  /**
   * Read calls (`get`, `exists`, `children`) sent since start: what the scale tests and the
   * `thales_zk_reads_total` metric count to show that an idle cluster reads nothing.
   */
  get readCount(): number {
    return this.reads;
  }

  /** Starts connecting (non-blocking). */
  start(): void {
    this.session.start();
  }

  /** Closes the session. */
  close(): Promise<void> {
    return this.session.close();
  }

  /** Reads a znode; throws `NO_NODE` if it is missing. */
  async get(path: string, watcher?: Watcher): Promise<ZNode> {
    this.reads++;
    return this.read(path, (c, p, cb) =>
      c.getData(p, this.wrapWatcher(watcher), (err, data, stat) =>
        cb(err, (err ? undefined : toZNode(data, stat)) as ZNode),
      ),
    );
  }

  /** Reads a znode, or `null` if it is missing. */
  async getOrNull(path: string, watcher?: Watcher): Promise<ZNode | null> {
    try {
      return await this.get(path, watcher);
    } catch (err) {
      if (err instanceof ZkError && err.code === 'NO_NODE') return null;
      throw err;
    }
  }

  /** Stat of a znode without its data, or `null`; the watcher also fires on creation. */
  async exists(path: string, watcher?: Watcher): Promise<Omit<ZNode, 'data'> | null> {
    this.reads++;
    return this.read(path, (c, p, cb) =>
      c.exists(p, this.wrapWatcher(watcher), (err, stat) =>
        cb(err, err || !stat ? null : toZNode(undefined, stat)),
      ),
    );
  }

  /** Children names of a znode; throws `NO_NODE` if it is missing. */
  async children(path: string, watcher?: Watcher): Promise<string[]> {
    this.reads++;
    return this.read(path, (c, p, cb) =>
      c.getChildren(p, this.wrapWatcher(watcher), (err, children) => cb(err, children)),
    );
  }

  /** Creates a znode and returns its path (with the sequence number for sequential modes). */
  async create(path: string, data: Buffer, mode: CreateMode = 'persistent'): Promise<string> {
    const created = await this.call<string>(path, (c, p, cb) =>
      c.create(p, data, MODES[mode], (err, made) => cb(err, made)),
    );
    return this.relative(created);
  }

  /** Creates a znode and its missing parents; an existing znode is left as it is. */
  async mkdirp(path: string): Promise<void> {
    await this.call(path, (c, p, cb) => c.mkdirp(p, (err) => cb(err, undefined)));
  }

  /** Compare-and-set: writes only if the znode is at `version` (-1: any); returns the new version. */
  async set(path: string, data: Buffer, version: number): Promise<number> {
    return this.call(path, (c, p, cb) =>
      c.setData(p, data, version, (err, stat) => cb(err, err ? -1 : stat.version)),
    );
  }

  /** Deletes a znode if it is at `version` (-1: any). */
  async remove(path: string, version = -1): Promise<void> {
    await this.call(path, (c, p, cb) => c.remove(p, version, (err) => cb(err, undefined)));
  }

  /**
   * Applies `ops` atomically. With a fence, a `check` of the fence znode runs first, so the
   * whole transaction fails with {@link FenceRejectedError} once the writer is deposed.
   */
  async multi(ops: ZkOp[], fence?: Fence): Promise<void> {
    const all: ZkOp[] = fence ? [{ op: 'check', ...fence }, ...ops] : ops;
    const first = all[0]?.path ?? '/';
    try {
      await this.call(first, (c, _p, cb) => {
        const tx = c.transaction();
        for (const o of all) addOp(tx, o, this.absolute(o.path));
        tx.commit((err, results) => cb(err ? withOpIndex(err, results) : null, undefined));
      });
    } catch (err) {
      if (fence && err instanceof ZkError && err.opIndex === 0) {
        throw new FenceRejectedError(fence, err);
      }
      if (err instanceof ZkError && err.opIndex !== undefined) {
        const failed = all[err.opIndex];
        throw new ZkError(err.code, failed?.path ?? first, { cause: err, opIndex: err.opIndex });
      }
      throw err;
    }
  }

  /** Absolute path of a chroot-relative path. */
  absolute(path: string): string {
    return path === '/' ? this.options.chroot : this.options.chroot + path;
  }

  private relative(path: string): string {
    return path.startsWith(this.options.chroot)
      ? path.slice(this.options.chroot.length) || '/'
      : path;
  }

  /** A new session first makes sure the chroot and the fixed directories exist. */
  private async onNewSession(sessionId: string): Promise<void> {
    for (;;) {
      try {
        for (const dir of PERSISTENT_DIRS) await this.mkdirp(dir);
        break;
      } catch (err) {
        if (this.session.sessionId !== sessionId || this.state === 'closed') return;
        this.options.logger.warn({ err }, 'could not create base directories; retrying');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    if (this.session.sessionId !== sessionId) return;
    this.sessionReady = true;
    this.emit('session', { sessionId });
  }

  /** node-zookeeper-client accepts an absent watcher; its typings do not say so. */
  private wrapWatcher(watcher: Watcher | undefined): (event: zookeeper.Event) => void {
    return (watcher ? () => watcher() : undefined) as unknown as (event: zookeeper.Event) => void;
  }

  /**
   * A read, sent again when the connection it was in flight on was lost (a member of the
   * ensemble restarting, say): the client queues it until it has reconnected to another
   * member, within the same budget as one call. Only reads: a write lost with its connection
   * may have been applied, and only its caller can tell what to do (the APIs answer 503).
   */
  private async read<T>(path: string, run: ClientCall<T>): Promise<T> {
    const deadline = Date.now() + this.opTimeoutMs;
    for (;;) {
      try {
        return await this.call(path, run);
      } catch (err) {
        const lost = err instanceof ZkError && READ_AGAIN.includes(err.code);
        if (!lost || Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, ZK_RETRY_POLICY[err.code].backoffMs));
      }
    }
  }

  /** Runs one client call with the chroot applied, a timeout, and errors made typed. */
  private call<T>(path: string, run: ClientCall<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.session.state === 'closed') {
        reject(new ZkError('NOT_CONNECTED', path));
        return;
      }
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new ZkError('OPERATION_TIMEOUT', path));
      }, this.opTimeoutMs);
      run(this.session.raw, this.absolute(path), (err, value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(toZkError(err, path, (err as { opIndex?: number }).opIndex));
        else resolve(value);
      });
    });
  }
}

/** One node-zookeeper-client call on the chrooted path, answering through its callback. */
type ClientCall<T> = (
  client: zookeeper.Client,
  absolutePath: string,
  cb: (err: unknown, value: T) => void,
) => void;

/** Errors after which a read is sent again: it was lost with its connection, not refused. */
const READ_AGAIN: readonly ZkErrorCode[] = ['CONNECTION_LOSS', 'SESSION_MOVED'];

function addOp(tx: zookeeper.Transaction, o: ZkOp, path: string): void {
  switch (o.op) {
    case 'create':
      tx.create(path, o.data, MODES[o.mode ?? 'persistent']);
      return;
    case 'set':
      tx.setData(path, o.data, o.version);
      break;
    case 'remove':
      tx.remove(path, o.version);
      break;
    case 'check':
      tx.check(path, o.version);
      break;
  }
  // node-zookeeper-client's Transaction does `version = version || -1`, turning a
  // compare-and-set against version 0 into an unconditional write. Put the real version back.
  const ops = (tx as unknown as { ops: { version?: number }[] }).ops;
  const added = ops[ops.length - 1];
  if (added) added.version = o.version;
}

/** Notes which op of a failed transaction failed (the first result carrying an error). */
function withOpIndex(err: object, results: unknown): object {
  if (Array.isArray(results)) {
    const index = results.findIndex(
      (r: { type?: number; err?: number }) => r.type === -1 && r.err !== 0 && r.err !== undefined,
    );
    if (index >= 0) Object.assign(err, { opIndex: index });
  }
  return err;
}

function toZNode(data: Buffer | undefined, stat: zookeeper.Stat): ZNode {
  const owner = stat.ephemeralOwner;
  const ownerHex = owner.readBigUInt64BE(0) === 0n ? '' : owner.toString('hex');
  return {
    data: data ?? Buffer.alloc(0),
    version: stat.version,
    ephemeralOwner: ownerHex,
    mtime: Number(stat.mtime.readBigInt64BE(0)),
  };
}
