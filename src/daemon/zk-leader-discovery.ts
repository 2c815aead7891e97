import type { Logger } from 'pino';
import type { Coordinator } from '../coordination/index.js';
import { readLeaderGrpcAddress } from '../leader/index.js';
import type { LeaderDiscovery } from '../runtime/index.js';

/**
 * Finds the leader from ZooKeeper's `/leader` latch (its lowest member's gRPC address), then
 * the fixed `--scheduler` addresses. While ZooKeeper is unreachable only the fixed list is
 * offered, so a daemon keeps its stream when it loses ZooKeeper.
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
}
