import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import {
  type Coordinator,
  type Fence,
  ZkError,
  encodeJson,
  latchSequence,
  zkPaths,
} from '../coordination/index.js';
import { Backoff, detach } from '../runtime/index.js';

/** What a latch znode says about its replica (read by followers and clients). */
export interface LatchIdentity {
  replicaId: string;
  httpAddress: string;
  grpcAddress: string;
}

/** Events of a {@link LeaderLatch}. */
export interface LeaderLatchEvents {
  /** This replica's znode is the lowest and owned by this session: lead, fenced by it. */
  elected: [Fence];
}

/**
 * The leader latch (DESIGN.md, "Leader election and fencing"): an EPHEMERAL_SEQUENTIAL znode
 * per replica under `/leader`; the lowest leads, each other watches only its predecessor.
 * It rejoins by itself on every new session until {@link LeaderLatch.leave} is called.
 */
export class LeaderLatch extends EventEmitter<LeaderLatchEvents> {
  private ourPath: string | undefined;
  private active = false;
  private checking = Promise.resolve();
  /** Back-off of a join whose create may or may not have landed. */
  private readonly joinBackoff = new Backoff('registration');
  /** Back-off of a check that failed (the watch on the predecessor must be set again). */
  private readonly checkBackoff = new Backoff('registration');
  private readonly onSession = (): void => {
    this.ourPath = undefined;
    if (this.active) this.startJoin();
  };

  constructor(
    private readonly zk: Coordinator,
    private readonly identity: LatchIdentity,
    private readonly logger: Logger,
  ) {
    super();
    zk.on('session', this.onSession);
    zk.on('expired', () => (this.ourPath = undefined));
  }

  /** The path of this replica's latch znode, while it has one. */
  get path(): string | undefined {
    return this.ourPath;
  }

  /** Starts taking part in the election (now if connected, else on the next session). */
  start(): void {
    this.active = true;
    if (this.zk.ready) this.startJoin();
  }

  /** Leaves the election: deletes the latch znode so a follower takes over at once. */
  async leave(): Promise<void> {
    this.active = false;
    const path = this.ourPath;
    this.ourPath = undefined;
    if (path) await this.zk.remove(path).catch(() => undefined);
  }

  /** Leaves and joins again at the back of the queue (used by a step-down that stays up). */
  async rejoin(): Promise<void> {
    await this.leave();
    this.start();
  }

  /**
   * Joins in the background. A create refused for good (not a connection loss: the session
   * expired meanwhile, say) is logged and tried again after a back-off while the session
   * lasts; a new session joins anyway. Unhandled, it would end the process.
   */
  private startJoin(): void {
    detach(this.join(), this.logger, 'leader latch join', () => {
      const retryMs = this.joinBackoff.next();
      setTimeout(() => {
        if (this.active && !this.ourPath && this.zk.ready) this.startJoin();
      }, retryMs);
    });
  }

  private async join(): Promise<void> {
    if (!this.active || this.ourPath) return;
    const nonce = randomUUID();
    const data = encodeJson({ ...this.identity, nonce, joinedAt: Date.now() });
    try {
      this.ourPath = await this.zk.create(zkPaths.leaderLatchPrefix, data, 'ephemeralSequential');
    } catch (err) {
      // After a connection loss the create may have landed: find our znode by its nonce.
      if (!(err instanceof ZkError && err.retryable)) throw err;
      this.ourPath = await this.findByNonce(nonce);
      if (!this.ourPath) return void setTimeout(() => this.startJoin(), this.joinBackoff.next());
    }
    this.joinBackoff.reset();
    this.logger.info({ latch: this.ourPath }, 'joined leader latch');
    this.scheduleCheck();
  }

  private async findByNonce(nonce: string): Promise<string | undefined> {
    const names = await this.zk.children(zkPaths.leaderDir).catch(() => [] as string[]);
    for (const name of names) {
      const node = await this.zk.getOrNull(`${zkPaths.leaderDir}/${name}`).catch(() => null);
      if (node?.data.toString().includes(nonce)) return `${zkPaths.leaderDir}/${name}`;
    }
    return undefined;
  }

  /** Serializes checks so two watch events never race each other. */
  private scheduleCheck(): void {
    this.checking = this.checking
      .then(() => this.check())
      .then(() => this.checkBackoff.reset())
      .catch((err: unknown) => {
        const retryMs = this.checkBackoff.next();
        this.logger.warn({ err, retryMs }, 'leader latch check failed; retrying');
        setTimeout(() => this.scheduleCheck(), retryMs);
      });
  }

  private async check(): Promise<void> {
    const ours = this.ourPath;
    if (!this.active || !ours) return;
    const names = (await this.zk.children(zkPaths.leaderDir))
      .filter((n) => !Number.isNaN(latchSequence(n)))
      .sort((a, b) => latchSequence(a) - latchSequence(b));
    const ourName = ours.slice(zkPaths.leaderDir.length + 1);
    const index = names.indexOf(ourName);
    if (index < 0) return; // our znode is gone with our session; 'session' rejoins.
    if (index === 0) {
      const node = await this.zk.getOrNull(ours);
      // Lead only if the lowest znode really belongs to this session (not a previous one).
      if (node && node.ephemeralOwner === this.zk.session.sessionId && this.ourPath === ours) {
        this.emit('elected', { path: ours, version: node.version });
      }
      return;
    }
    const predecessor = `${zkPaths.leaderDir}/${names[index - 1]}`;
    const stat = await this.zk.exists(predecessor, () => this.scheduleCheck());
    if (!stat) this.scheduleCheck();
  }
}
