import type {
  GatewayRequest,
  GatewayRequestState,
  GatewayServiceState,
  GatewayTouch,
  SchedulerLoadBalancer,
} from '../scheduler/index.js';
import type { LbApi } from './lb-api.js';
import type { LbManager } from './lb-manager.js';
import type { LbRequestRecord } from './lb-model.js';
import type { LbRequestStore } from './lb-request-store.js';

/**
 * The scheduler's view of the load balancer ({@link SchedulerLoadBalancer}), over this
 * replica's LB manager: requests go in through the same validated submit as the API's, the
 * state of a service comes from the manager's memory (stored services, requests open on
 * it, failed ones whose revert failed), outcomes from memory or, for a request a previous
 * leader handled, from ZooKeeper.
 */
export class LbSchedulerGateway implements SchedulerLoadBalancer {
  /** Submitted by this replica and not seen finished: open even before the intake sees them. */
  private readonly submitted = new Map<string, GatewayTouch & { serviceId: string }>();

  constructor(
    private readonly manager: LbManager,
    private readonly api: LbApi,
    private readonly store: LbRequestStore,
  ) {
    manager.view.onChange(() => {
      for (const id of this.submitted.keys()) {
        if (manager.view.outcome(id)) this.submitted.delete(id);
      }
    });
  }

  get ready(): boolean {
    return this.manager.ready;
  }

  async submit(request: GatewayRequest): Promise<void> {
    const record = await this.api.submit({
      requestId: request.requestId,
      service: request.service,
      addUpstreams: request.add.map((upstream) => ({ upstream })),
      removeUpstreams: request.remove.map((upstream) => ({ upstream })),
      action: request.action ?? 'UPDATE',
    });
    if (record.state === 'WAITING' || record.state === 'CANCELING') {
      this.submitted.set(request.requestId, {
        serviceId: request.service.serviceId,
        requestId: request.requestId,
        state: 'WAITING',
        revertFailed: false,
        add: [...request.add],
        remove: [...request.remove],
      });
    }
  }

  async outcomes(requestIds: readonly string[]): Promise<Map<string, GatewayRequestState>> {
    const out = new Map<string, GatewayRequestState>();
    const unknown: string[] = [];
    for (const id of requestIds) {
      const known = this.manager.view.outcome(id)?.state;
      if (known) out.set(id, known);
      else if (this.submitted.has(id)) out.set(id, 'WAITING');
      else unknown.push(id);
    }
    const read = await Promise.all(unknown.map((id) => this.store.getRequest(id)));
    read.forEach((r, i) => {
      if (r) out.set(unknown[i] as string, r.value.state);
    });
    return out;
  }

  service(serviceId: string): GatewayServiceState {
    const stored = this.manager.storedService(serviceId);
    const open = this.manager.openRequests(serviceId).map(toTouch);
    const openIds = new Set(open.map((t) => t.requestId));
    for (const s of this.submitted.values()) {
      if (s.serviceId === serviceId && !openIds.has(s.requestId)) open.push(s);
    }
    const stuck = this.manager.view.stuckOn(serviceId).map((f, i) => ({
      requestId: `stuck-${i}`,
      state: f.state,
      revertFailed: true,
      add: f.add,
      remove: f.remove,
    }));
    return {
      stored: stored !== undefined,
      upstreams: new Set(stored?.upstreams.map((u) => u.upstream) ?? []),
      touches: [...open, ...stuck],
      open: open.length,
    };
  }

  serviceIds(): string[] {
    const ids = new Set(this.manager.serviceIds());
    for (const s of this.submitted.values()) ids.add(s.serviceId);
    return [...ids];
  }

  onChange(listener: () => void): () => void {
    return this.manager.view.onChange(listener);
  }
}

function toTouch(record: LbRequestRecord): GatewayTouch {
  const r = record.request;
  // A replace may change any upstream it names.
  return {
    requestId: record.requestId,
    state: record.state,
    revertFailed: false,
    add: [...r.addUpstreams, ...r.replaceUpstreams].map((u) => u.upstream),
    remove: r.removeUpstreams.map((u) => u.upstream),
  };
}
