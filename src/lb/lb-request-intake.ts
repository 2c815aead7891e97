import type { Logger } from 'pino';
import { Backoff, detach, isRetryableError } from '../runtime/index.js';
import { type LbRequestRecord, isTerminalState } from './lb-model.js';
import type { LbRequestStore, Versioned } from './lb-request-store.js';
import { markLbStage } from './lb-stage-events.js';

/** What the intake tells the manager. */
export interface LbRequestIntakeHooks {
  isLeading(): boolean;
  /** Something was queued: time to plan. */
  onQueued(): void;
  /** A request found CANCELING when first seen (it was in flight under a previous leader). */
  onCanceling(r: Versioned<LbRequestRecord>): void;
}

/**
 * The leader's intake of stored requests: reads each new name under `/lb/requests` once,
 * queues the unfinished ones per service in submission order (`submittedAt`, then id), and
 * re-reads a request whose read or transition failed so it is tried again.
 */
export class LbRequestIntake {
  /** Waiting requests by service id, in the order they are applied. */
  readonly queues = new Map<string, Versioned<LbRequestRecord>[]>();
  private readonly seen = new Set<string>();
  /** Requests being re-read, with the timer of the next attempt. */
  private readonly retrying = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: LbRequestStore,
    private readonly log: Logger,
    private readonly hooks: LbRequestIntakeHooks,
  ) {}

  /** Forgets everything (leadership lost). */
  clear(): void {
    this.queues.clear();
    this.seen.clear();
    for (const timer of this.retrying.values()) clearTimeout(timer);
    this.retrying.clear();
  }

  /** Reads requests not seen yet; queues the unfinished ones (also those of a dead leader). */
  async onNames(names: string[]): Promise<void> {
    const fresh = names.filter((n) => !this.seen.has(n));
    for (const n of fresh) this.seen.add(n);
    const read = await Promise.all(
      fresh.map((n) =>
        this.store.getRequest(n).catch((err: unknown) => {
          this.log.warn({ err, requestId: n }, 'cannot read lb request');
          this.retryLater(n);
          return null;
        }),
      ),
    );
    if (!this.hooks.isLeading()) return;
    for (const r of read) {
      if (!r) continue;
      markLbStage(r.value.requestId, 'seen');
      if (r.value.state === 'WAITING') this.enqueue(r);
      else if (r.value.state === 'CANCELING') this.hooks.onCanceling(r);
    }
    this.hooks.onQueued();
  }

  /** Queues a request behind the others of its service. */
  enqueue(r: Versioned<LbRequestRecord>): void {
    const id = r.value.request.service.serviceId;
    const queue = this.queues.get(id) ?? [];
    queue.push(r);
    queue.sort(
      (a, b) =>
        a.value.submittedAt - b.value.submittedAt ||
        (a.value.requestId < b.value.requestId ? -1 : 1),
    );
    this.queues.set(id, queue);
  }

  /**
   * After a failed read or write (ZooKeeper unreachable; a fenced-out write is followed by
   * revocation anyway), reads the request again on the runtime's `lbIntake` policy (200 ms
   * doubling to 10 s, jittered, 12 attempts: about a minute) and queues it if it is still
   * unfinished: it is then planned and pushed again from the stored state, which agents apply
   * idempotently; a CANCELING one is applied and reverted.
   *
   * Giving up loses nothing: the request stays in ZooKeeper as it was, and the intake forgets
   * it has seen it, so the next change of `/lb/requests` (any submission) reads it again, as
   * does the next leader. A read that fails for a reason retrying cannot fix (a znode that
   * does not decode) gives up at once.
   */
  retryLater(requestId: string): void {
    if (this.retrying.has(requestId)) return;
    const backoff = new Backoff('lbIntake');
    const attempt = (): void => {
      const timer = setTimeout(
        () => detach(reread(), this.log, 'lb request re-read'),
        backoff.next(),
      );
      this.retrying.set(requestId, timer.unref());
    };
    const reread = async (): Promise<void> => {
      if (!this.hooks.isLeading()) return void this.retrying.delete(requestId);
      try {
        const r = await this.store.getRequest(requestId);
        this.retrying.delete(requestId);
        if (!r || !this.hooks.isLeading()) return;
        if (isTerminalState(r.value.state)) return;
        this.enqueue(r);
        this.hooks.onQueued();
      } catch (err) {
        if (!this.retrying.has(requestId)) return; // leadership lost meanwhile
        if (isRetryableError(err) && !backoff.exhausted) return attempt();
        this.retrying.delete(requestId);
        this.seen.delete(requestId);
        this.log.warn(
          { err, requestId, attempts: backoff.attempts },
          'lb request left in ZooKeeper for a later read (the next change of /lb/requests or leader)',
        );
      }
    };
    attempt();
  }
}
