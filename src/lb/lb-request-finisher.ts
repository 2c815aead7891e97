/**
 * Where every load-balancer request ends, in flight or not: the final record (for a request
 * that never went in flight), the metrics, the log line and the leader view's outcome that
 * the scheduler's gateway waits on. Apart from the manager, which decides when.
 */
import type { Logger } from 'pino';
import { detach } from '../runtime/index.js';
import type { LbLeaderView } from './lb-leader-view.js';
import type { LbManagerMetrics } from './lb-manager-metrics.js';
import type { LbRequestRecord, LbRequestStateName } from './lb-model.js';
import type { Versioned } from './lb-request-store.js';
import { type InFlight, type LbRequestWrites, withAgents } from './lb-request-writes.js';

/** Records the end of load-balancer requests. */
export class LbRequestFinisher {
  constructor(
    private readonly writes: LbRequestWrites,
    private readonly metrics: LbManagerMetrics,
    private readonly view: LbLeaderView,
    private readonly log: Logger,
  ) {}

  /**
   * Finishes a stored request that is not in flight (a no-op, a plan that fails, a cancel
   * before it was applied). Never rejects: a failed write is logged, and the request stays
   * as stored for the next leader or the intake's retry.
   */
  async finishStored(
    r: Versioned<LbRequestRecord>,
    state: LbRequestStateName,
    message: string,
  ): Promise<void> {
    try {
      const record = await this.writes.finishStored(r, state, message);
      this.metrics.finished.inc({ state });
      this.view.onFinished(record, state);
    } catch (err) {
      this.log.warn({ err, requestId: r.value.requestId, state }, 'cannot finish lb request');
    }
  }

  /** {@link finishStored} from a synchronous caller. */
  finishStoredDetached(
    r: Versioned<LbRequestRecord>,
    state: LbRequestStateName,
    message: string,
  ): void {
    detach(this.finishStored(r, state, message), this.log, 'finish of an lb request');
  }

  /** Records an in-flight request whose final record was written. */
  finished(f: InFlight, state: LbRequestStateName): void {
    this.metrics.finished.inc({ state });
    this.metrics.latency.observe((Date.now() - f.startedAt) / 1000);
    this.log.info(
      { requestId: f.record.requestId, serviceId: f.serviceId, state },
      'lb request done',
    );
    this.view.onFinished(withAgents(f), state);
  }
}
