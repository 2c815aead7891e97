import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Coordinator, Fence } from '../coordination/index.js';
import { Backoff, detach } from '../runtime/index.js';
import { FencedWriter } from './fenced-writer.js';
import { LeaderLatch, type LatchIdentity } from './leader-latch.js';
import { makeLeaderMetrics, type LeaderMetrics } from './leader-metrics.js';
import { incrementTerm } from './leader-term.js';

/**
 * How long a step-down waits for the revoke before it deletes the latch znode anyway (see
 * {@link Leadership.stepDown}). Well under the shutdown's own bound for the step-down.
 */
export const STEP_DOWN_REVOKE_WITHIN_MS = 300;

/** A leader-only subsystem, switched on and off with all the others. */
export interface LeaderService {
  readonly name: string;
  /** Start leader work for `term`; every leader write goes through `writer`. */
  establishLeadership(term: number, writer: FencedWriter): Promise<void> | void;
  /**
   * Stop leader work and drop all leader state. Stops at once: slow teardown (threads,
   * connections) does not hold the revoke, since the step-down deletes the latch only after it.
   */
  revokeLeadership(): Promise<void> | void;
  /** The connection dropped: send no new commands until {@link LeaderService.resume}. */
  pause?(): void;
  /** The same session is back: carry on. */
  resume?(): void;
}

/** This replica's role. A paused leader has lost its connection and does no leader work. */
export type Role = 'LEADER' | 'FOLLOWER' | 'PAUSED';

/** Leadership as reported by `/api/state` and metrics. */
export interface LeadershipStatus {
  role: Role;
  /** The term this replica leads in (while LEADER or PAUSED). */
  term: number | undefined;
  /** When the current role began (ms since the epoch). */
  since: number;
}

/** Events of {@link Leadership}. */
export interface LeadershipEvents {
  change: [LeadershipStatus];
}

/**
 * The single switch for leader-only work: `establishLeadership(term)` turns every registered
 * service on, `revokeLeadership()` turns them all off (DESIGN.md, "Roles of a replica").
 * Connection handling follows DESIGN.md: disconnected → pause; same session back → resume;
 * expired → revoke, new session, rejoin. The process never exits for it.
 */
export class Leadership extends EventEmitter<LeadershipEvents> {
  private readonly services: LeaderService[] = [];
  private readonly latch: LeaderLatch;
  private readonly metrics: LeaderMetrics;
  private current: LeadershipStatus = { role: 'FOLLOWER', term: undefined, since: Date.now() };
  private writer: FencedWriter | undefined;
  private lastWriter: FencedWriter | undefined;
  /** Serializes establish/revoke so they never interleave. */
  private transition = Promise.resolve();
  /** Back-off before rejoining after establish attempts that failed in a row. */
  private readonly establishBackoff = new Backoff('establish');
  private rejoinTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly zk: Coordinator,
    private readonly identity: LatchIdentity,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    super();
    this.metrics = makeLeaderMetrics(registry, zk);
    this.latch = new LeaderLatch(zk, identity, logger);
    // enqueue() logs a failed transition itself; detach() only keeps the listener synchronous.
    this.latch.on('elected', (fence) =>
      detach(
        this.enqueue(() => this.establish(fence)),
        logger,
        'leadership transition',
      ),
    );
    zk.on('disconnected', () => this.pause());
    zk.on('reconnected', () => this.resume());
    zk.on('expired', () =>
      detach(
        this.enqueue(() => this.revoke('session expired')),
        logger,
        'leadership transition',
      ),
    );
  }

  /** The role now. */
  get status(): LeadershipStatus {
    return this.current;
  }

  /** The fenced writer of the current leadership, if leading. */
  get fencedWriter(): FencedWriter | undefined {
    return this.writer;
  }

  /**
   * The writer of the most recent leadership, kept after it ended so operators and tests
   * can prove that a deposed leader's writes are refused by ZooKeeper.
   */
  get lastFencedWriter(): FencedWriter | undefined {
    return this.lastWriter;
  }

  /** Adds a leader-only service; must be called before {@link Leadership.start}. */
  register(service: LeaderService): void {
    this.services.push(service);
  }

  /** Joins the election. */
  start(): void {
    this.latch.start();
  }

  /**
   * Graceful step-down: revoke, delete the latch znode so a follower leads at once. With
   * `rejoin`, this replica joins again as a follower (the step-down API); without, it stays
   * out (process shutdown).
   *
   * The latch goes at most `revokeWithinMs` after the call even if the revoke has not
   * finished (it may be queued behind an establish still reading ZooKeeper, or a service may
   * be slow to stop): a follower must not wait for the session timeout because this replica
   * is slow to let go. That is safe: every leader write is fenced by the latch znode, so once
   * it is gone nothing this leadership still tries lands.
   */
  async stepDown(rejoin: boolean, revokeWithinMs = STEP_DOWN_REVOKE_WITHIN_MS): Promise<void> {
    const revoked = this.enqueue(() => this.revoke('step-down'));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), revokeWithinMs);
    });
    const outcome = await Promise.race([revoked, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.logger.warn(
        { revokeWithinMs },
        'step-down: revoke still running; leaving the latch now so a follower can lead',
      );
    }
    // After the queue: a failed establish queued before this may have just set the timer.
    clearTimeout(this.rejoinTimer);
    await this.latch.leave();
    if (outcome === 'late') await revoked;
    clearTimeout(this.rejoinTimer);
    if (rejoin) this.latch.start();
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.transition = this.transition.then(work).catch((err: unknown) => {
      this.logger.error({ err }, 'leadership transition failed');
    });
    return this.transition;
  }

  private async establish(fence: Fence): Promise<void> {
    if (this.current.role !== 'FOLLOWER') return;
    try {
      await this.tryEstablish(fence);
      this.establishBackoff.reset();
    } catch (err) {
      await this.abandon(fence, err);
    }
  }

  /**
   * Establishing failed (e.g. a ZooKeeper operation timed out on an overloaded ensemble):
   * holding the latch without leading would leave the cluster with no leader at all. Undo
   * what started, leave the latch so another replica can lead, and join again after a
   * back-off (this replica may be the only one).
   */
  private async abandon(fence: Fence, err: unknown): Promise<void> {
    const retryMs = this.establishBackoff.next();
    this.logger.error(
      { err, latch: fence.path, retryMs },
      'could not establish leadership: stepping aside and rejoining the election',
    );
    this.writer = undefined;
    await this.revokeServices();
    if (this.latch.path !== fence.path) return; // already lost the latch: nothing to give up
    await this.latch.leave();
    this.rejoinTimer = setTimeout(() => this.latch.start(), retryMs);
    this.rejoinTimer.unref();
  }

  private async tryEstablish(fence: Fence): Promise<void> {
    const term = await incrementTerm(this.zk, fence, this.identity.replicaId);
    if (this.latch.path !== fence.path) return; // lost the latch while claiming the term
    const writer = new FencedWriter(this.zk, fence, term, (r) =>
      this.metrics.fencedWrites.inc({ result: r }),
    );
    this.writer = writer;
    this.lastWriter = writer;
    for (const s of this.services) await s.establishLeadership(term, writer);
    this.setStatus({ role: 'LEADER', term, since: Date.now() });
    this.logger.info({ term, latch: fence.path }, 'leadership established');
    // The connection may have dropped while services were starting: pause them now.
    if (this.zk.state !== 'connected') this.pause();
  }

  private async revoke(reason: string): Promise<void> {
    if (this.current.role === 'FOLLOWER') return;
    const term = this.current.term;
    this.writer = undefined;
    await this.revokeServices();
    this.setStatus({ role: 'FOLLOWER', term: undefined, since: Date.now() });
    this.logger.warn({ term, reason }, 'leadership revoked');
  }

  /** Revokes in reverse order of establishment, each independently of the others' failures. */
  private async revokeServices(): Promise<void> {
    for (const s of [...this.services].reverse()) {
      try {
        await s.revokeLeadership();
      } catch (err) {
        this.logger.error({ err, service: s.name }, 'revokeLeadership failed');
      }
    }
  }

  private pause(): void {
    if (this.current.role !== 'LEADER') return;
    for (const s of this.services) s.pause?.();
    this.setStatus({ ...this.current, role: 'PAUSED', since: Date.now() });
    this.logger.warn({ term: this.current.term }, 'leader paused: ZooKeeper disconnected');
  }

  private resume(): void {
    if (this.current.role !== 'PAUSED') return;
    for (const s of this.services) s.resume?.();
    this.setStatus({ ...this.current, role: 'LEADER', since: Date.now() });
    this.logger.info({ term: this.current.term }, 'leader resumed: same session is back');
  }

  private setStatus(status: LeadershipStatus): void {
    this.current = status;
    this.metrics.isLeader.set(status.role === 'LEADER' ? 1 : 0);
    if (status.term !== undefined) this.metrics.term.set(status.term);
    this.metrics.transitions.inc({ to: status.role });
    this.emit('change', status);
  }
}
