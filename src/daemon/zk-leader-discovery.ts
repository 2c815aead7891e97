import type { Logger } from 'pino';
import { type Coordinator, watchChildren, zkPaths } from '../coordination/index.js';
import { readLeaderGrpcAddress } from '../leader/index.js';
import type { LeaderDiscovery } from '../runtime/index.js';

/**
 * Finds the leader from ZooKeeper's `/leader` latch (its lowest member's gRPC address), then
 * the fixed `--scheduler` addresses. While ZooKeeper is unreachable only the fixed list is
 * offered, so a daemon keeps its stream when it loses ZooKeeper.
 *
 * It also watches the latch: the moment ZooKeeper expires a paused or dead leader's session
 * and its latch znode goes, every daemon hears of the new lowest member together with the
 * replica that takes over, and leaves the old leader at once instead of waiting for gRPC
 * keepalive to give up on it.
 */
export class ZkLeaderDiscovery implements LeaderDiscovery {
  constructor(
    private readonly zk: Coordinator,
    private readonly fixed: readonly string[],
    private readonly logger: Logger,
  ) {}

  async addresses(): Promise<string[]> {
    const leader = this.zk.ready
      ? await readLeaderGrpcAddress(this.zk).catch((err: unknown) => {
          this.logger.debug({ err }, 'cannot read the leader latch');
          return null;
        })
      : null;
    return leader ? [leader, ...this.fixed.filter((a) => a !== leader)] : [...this.fixed];
  }

  /**
   * Reports the latch's leader on every change of `/leader`'s children (and on every new
   * session), only when its address changed. A read that fails reports nothing: the watch
   * reads again on the next event or reconnection.
   */
  watchLeader(listener: (address: string | null) => void): () => void {
    let reported: string | null | undefined;
    let generation = 0;
    let stopped = false;
    const unwatch = watchChildren(this.zk, zkPaths.leaderDir, () => {
      const mine = ++generation;
      readLeaderGrpcAddress(this.zk).then(
        (address) => {
          // Only the read of the latest event counts: an older one may finish last.
          if (stopped || mine !== generation || address === reported) return;
          reported = address;
          this.logger.info({ leader: address }, 'the leader latch changed');
          listener(address);
        },
        (err: unknown) => this.logger.debug({ err }, 'cannot read the leader latch'),
      );
    });
    return () => {
      stopped = true;
      unwatch();
    };
  }
}
