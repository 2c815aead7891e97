import type { Logger } from 'pino';
import { encodeJson, zkPaths } from '../coordination/index.js';
import type { FencedWriter, LeaderService } from '../leader/index.js';
import { detach } from '../runtime/index.js';

/**
 * The simplest leader loop: a fenced write of `/leader/heartbeat` (term, leader, time) at
 * once on establishment and then every `intervalMs`. It shows that the leader's loops are on
 * and that its fenced writes land; a deposed leader's heartbeat is refused by ZooKeeper.
 */
export class LeaderHeartbeat implements LeaderService {
  readonly name = 'leader-heartbeat';
  private timer: NodeJS.Timeout | undefined;
  private writer: FencedWriter | undefined;
  private paused = false;

  constructor(
    private readonly replicaId: string,
    private readonly logger: Logger,
    private readonly intervalMs = 1_000,
  ) {}

  async establishLeadership(_term: number, writer: FencedWriter): Promise<void> {
    this.writer = writer;
    this.paused = false;
    await this.beat();
    this.timer = setInterval(
      () => detach(this.beat(), this.logger, 'leader heartbeat'),
      this.intervalMs,
    );
  }

  revokeLeadership(): void {
    clearInterval(this.timer);
    this.writer = undefined;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  private async beat(): Promise<void> {
    const writer = this.writer;
    if (!writer || this.paused) return;
    const data = encodeJson({ term: writer.term, leaderId: this.replicaId, at: Date.now() });
    try {
      // Upsert without reading: remove-if-present is not expressible, so set, then create.
      await writer.write([{ op: 'set', path: zkPaths.leaderHeartbeat, data, version: -1 }]);
    } catch (err) {
      if ((err as { code?: string }).code === 'NO_NODE') {
        await writer
          .write([{ op: 'create', path: zkPaths.leaderHeartbeat, data }])
          .catch((e: unknown) => this.logger.warn({ err: e }, 'leader heartbeat refused'));
        return;
      }
      this.logger.warn({ err, term: writer.term }, 'leader heartbeat refused');
    }
  }
}
