/**
 * The one lane through which the lb-agent changes nginx's configuration: batches of updates
 * and drift repairs, never two at once. Updates that arrive while something is applied wait
 * and go together as the next batch, so nginx is validated and reloaded once per batch.
 */
export class ApplyLane<T> {
  private readonly queue: T[] = [];
  private busy = false;

  /**
   * @param applyBatch applies everything queued; it answers its own items and must not
   *   throw (a throw is passed to `onError`, and the lane goes on).
   */
  constructor(
    private readonly applyBatch: (batch: T[]) => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Whether nothing is being applied and nothing waits. */
  get idle(): boolean {
    return !this.busy && this.queue.length === 0;
  }

  /** Queues an item; it is applied with whatever else queued meanwhile. */
  push(item: T): void {
    this.queue.push(item);
    this.drain().catch(this.onError);
  }

  /**
   * Runs `job` (a drift repair) now if the lane is idle; returns whether it ran. A periodic
   * check skips its turn rather than delay updates.
   */
  async runIfIdle(job: () => Promise<void>): Promise<boolean> {
    if (!this.idle) return false;
    this.busy = true;
    try {
      await job();
    } catch (err) {
      this.onError(err);
    } finally {
      this.busy = false;
    }
    this.drain().catch(this.onError);
    return true;
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0) {
        await this.applyBatch(this.queue.splice(0)).catch(this.onError);
      }
    } finally {
      this.busy = false;
    }
  }
}
