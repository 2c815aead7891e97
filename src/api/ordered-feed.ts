/** A listener of an {@link OrderedFeed}: each event with its sequence number. */
export type FeedListener<T> = (event: T, seq: number) => void;

/**
 * Delivers events to listeners in the order they were pushed, even when an event's value is
 * still being fetched (an ended task's final record comes from one ZooKeeper read): a later
 * event waits for an earlier one. Sequence numbers let a listener that took a snapshot at
 * {@link position} skip the events the snapshot already reflects.
 */
export class OrderedFeed<T> {
  private seq = 0;
  private tail: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<FeedListener<T>>();

  constructor(private readonly onError: (err: unknown) => void) {}

  /** The sequence number of the last event pushed. */
  get position(): number {
    return this.seq;
  }

  /** Queues an event (or a promise of it; a rejected one is reported and skipped). */
  push(event: T | Promise<T>): void {
    const seq = ++this.seq;
    const value = Promise.resolve(event);
    this.tail = this.tail.then(() =>
      value.then(
        (resolved) => {
          for (const listener of this.listeners) {
            try {
              listener(resolved, seq);
            } catch (err) {
              this.onError(err);
            }
          }
        },
        (err: unknown) => this.onError(err),
      ),
    );
  }

  /** Adds a listener; returns its removal. */
  subscribe(listener: FeedListener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
