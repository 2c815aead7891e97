import type { Logger } from 'pino';
import { type Coordinator, ZkError, encodeJson, zkPaths } from '../coordination/index.js';
import { Backoff, detach } from '../runtime/index.js';

/** What a replica publishes about itself under `/replicas/<replicaId>`. */
export interface ReplicaRecord {
  replicaId: string;
  httpAddress: string;
  grpcAddress: string;
  version: string;
  startedAt: number;
}

/**
 * Keeps this replica's ephemeral `/replicas/<id>` znode present for every session. A znode
 * left by a previous process with the same id (whose session has not expired yet) is replaced.
 */
export class ReplicaRegistration {
  private readonly onSession = (): void =>
    detach(this.register(), this.logger, 'replica registration');
  private readonly backoff = new Backoff('registration');

  constructor(
    private readonly zk: Coordinator,
    private readonly record: ReplicaRecord,
    private readonly logger: Logger,
  ) {}

  /** Registers now (if connected) and on every new session. */
  start(): void {
    this.zk.on('session', this.onSession);
    if (this.zk.ready) detach(this.register(), this.logger, 'replica registration');
  }

  /** Removes the registration (graceful shutdown). */
  async stop(): Promise<void> {
    this.zk.off('session', this.onSession);
    await this.zk.remove(zkPaths.replica(this.record.replicaId)).catch(() => undefined);
  }

  private async register(): Promise<void> {
    const path = zkPaths.replica(this.record.replicaId);
    try {
      const existing = await this.zk.getOrNull(path);
      if (existing && existing.ephemeralOwner === this.zk.session.sessionId) return;
      if (existing) await this.zk.remove(path, existing.version);
      await this.zk.create(path, encodeJson({ ...this.record }), 'ephemeral');
      this.backoff.reset();
      this.logger.info({ path }, 'replica registered');
    } catch (err) {
      if (err instanceof ZkError && err.code === 'SESSION_EXPIRED') return;
      const retryMs = this.backoff.next();
      this.logger.warn(
        { err, attempt: this.backoff.attempts, retryMs },
        'replica registration failed; retrying',
      );
      setTimeout(() => detach(this.register(), this.logger, 'replica registration'), retryMs);
    }
  }
}
