import type { Logger } from 'pino';

/** One leader command waiting to run: the term it came with, and what it does. */
interface QueuedCommand {
  term: number;
  what: string;
  run: () => void;
}

/**
 * Runs the leader's launch and kill commands one at a time, in arrival order, one per turn
 * of the event loop. A launch does synchronous, fsync'd sandbox writes and a fork; a batch of
 * 50 run back to back on a loaded host blocked the loop for seconds, no heartbeat left, and
 * the leader declared the agent lost with every task on it. Yielding between commands keeps
 * the heartbeat timer and the stream's I/O going.
 *
 * Each command is checked against the highest term seen again when it runs, not only when it
 * arrived: a newer leader that spoke in the meantime fences the old one's queued commands.
 */
export class CommandQueue {
  private readonly queue: QueuedCommand[] = [];
  private scheduled = false;

  constructor(
    private readonly o: {
      logger: Logger;
      /** The highest leader term this agent has seen. */
      highestTerm: () => number;
    },
  ) {}

  /** Commands waiting to run. */
  get size(): number {
    return this.queue.length;
  }

  /** Queues `run` under `term`; `what` names it in logs. */
  push(term: number, what: string, run: () => void): void {
    this.queue.push({ term, what, run });
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.runOne();
      this.schedule();
    });
  }

  private runOne(): void {
    const cmd = this.queue.shift();
    if (!cmd) return;
    const highest = this.o.highestTerm();
    if (cmd.term < highest) {
      this.o.logger.warn(
        { term: cmd.term, highestTerm: highest, command: cmd.what },
        'dropped a queued command of an older leader term',
      );
      return;
    }
    try {
      cmd.run();
    } catch (err) {
      this.o.logger.error({ command: cmd.what, err: String(err) }, 'command failed');
    }
  }
}
