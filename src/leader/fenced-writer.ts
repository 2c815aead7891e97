import {
  type Coordinator,
  type Fence,
  FenceRejectedError,
  type ZkOp,
} from '../coordination/index.js';

/** Outcome counters a fenced writer reports (to metrics). */
export type FencedWriteResult = 'ok' | 'fenced' | 'error';

/**
 * The only way leader-only state is written: every write is a `multi` whose first op checks
 * the leader's own latch znode, so a deposed leader's writes fail atomically in ZooKeeper.
 */
export class FencedWriter {
  constructor(
    private readonly zk: Coordinator,
    /** The latch znode this leadership holds. */
    readonly fence: Fence,
    /** The term of this leadership, stamped on commands to agents. */
    readonly term: number,
    private readonly onResult: (result: FencedWriteResult) => void = () => undefined,
  ) {}

  /** Applies `ops` atomically if and only if this leadership still holds its latch. */
  async write(ops: ZkOp[]): Promise<void> {
    try {
      await this.zk.multi(ops, this.fence);
      this.onResult('ok');
    } catch (err) {
      this.onResult(err instanceof FenceRejectedError ? 'fenced' : 'error');
      throw err;
    }
  }
}
