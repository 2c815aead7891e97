import type { LbRequestRecord, LbRequestStateName } from './lb-model.js';

/** A finished request as the leader's view remembers it. */
export interface LbFinished {
  state: LbRequestStateName;
  /** Some lb-agent's revert failed: its change may have stuck on that agent. */
  revertFailed: boolean;
  add: string[];
  remove: string[];
}

/** How many finished requests are remembered (older ones are read back from ZooKeeper). */
const MAX_REMEMBERED = 10_000;

/**
 * What the leader's LB manager learned that its clients (the scheduler's deploy driver and
 * task paths) decide on: the outcome of recent requests, the failed requests per service whose
 * revert failed since the service's last success (an lb-agent may still route to what they
 * added), and listeners told after every finished request. Dropped whole with leadership: a
 * new leader's lb-agents re-bootstrap from `/lb/services`, so no stuck change survives it.
 */
export class LbLeaderView {
  private readonly finished = new Map<string, LbFinished>();
  private readonly stuck = new Map<string, LbFinished[]>();
  private readonly listeners = new Set<() => void>();

  /** Records a request's end and tells the listeners. */
  onFinished(record: LbRequestRecord, state: LbRequestStateName): void {
    const r = record.request;
    const entry: LbFinished = {
      state,
      revertFailed: record.agents.some((a) => a.status === 'REVERT_FAILED'),
      add: [...r.addUpstreams, ...r.replaceUpstreams].map((u) => u.upstream),
      remove: r.removeUpstreams.map((u) => u.upstream),
    };
    this.finished.delete(record.requestId);
    this.finished.set(record.requestId, entry);
    if (this.finished.size > MAX_REMEMBERED) {
      const oldest = this.finished.keys().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
    const serviceId = r.service.serviceId;
    if (state === 'SUCCESS') this.stuck.delete(serviceId);
    else if (entry.revertFailed)
      this.stuck.set(serviceId, [...(this.stuck.get(serviceId) ?? []), entry]);
    for (const l of this.listeners) l();
  }

  /** A finished request's outcome, when this leadership saw it end. */
  outcome(requestId: string): LbFinished | undefined {
    return this.finished.get(requestId);
  }

  /** Failed requests on the service, since its last success, whose revert failed somewhere. */
  stuckOn(serviceId: string): readonly LbFinished[] {
    return this.stuck.get(serviceId) ?? [];
  }

  /** The services with stuck requests. */
  stuckServiceIds(): string[] {
    return [...this.stuck.keys()];
  }

  /** Calls `listener` after every finished request; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forgets the outcomes (leadership lost); listeners stay. */
  clear(): void {
    this.finished.clear();
    this.stuck.clear();
  }
}
