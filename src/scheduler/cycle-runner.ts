/**
 * Coalesces requests for a scheduling cycle: at most one cycle runs at a time, and any number
 * of requests while it runs make exactly one more. A failed cycle is logged; the next request
 * (the leader's tick at the latest) runs another.
 */
export class CycleRunner {
  private running = false;
  private again = false;

  constructor(
    /** Runs one cycle; returns false when there is nothing to cycle for (not leading). */
    private readonly runCycle: () => Promise<boolean>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Asks for a cycle soon. */
  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    setImmediate(() => {
      this.loop().catch(this.onError);
    });
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        try {
          if (!(await this.runCycle())) break;
        } catch (err) {
          this.onError(err);
        }
      } while (this.again);
    } finally {
      this.running = false;
    }
  }
}
