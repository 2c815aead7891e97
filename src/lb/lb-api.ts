import { LbError } from './lb-error.js';
import type { LbRequestRecord, LbServiceRecord } from './lb-model.js';
import type { LbRequestStore } from './lb-request-store.js';
import { markLbStage } from './lb-stage-events.js';
import { parseLbId, parseLbRequest } from './lb-validation.js';

/** A group as the read views show it. */
export interface LbGroupView {
  group: string;
  agents: string[];
  serviceIds: string[];
}

/**
 * The load-balancer API shared by HTTP and gRPC, served by every replica: validation at the
 * edge (nothing is stored for bad input), CAS writes, reads straight from ZooKeeper.
 */
export class LbApi {
  constructor(private readonly store: LbRequestStore) {}

  /** Validates and stores a request (idempotent by request id). */
  async submit(input: unknown): Promise<LbRequestRecord> {
    const request = parseLbRequest(input);
    const record = await this.store.submit(request, Date.now());
    markLbStage(request.requestId, 'persisted');
    return record;
  }

  /** A request with its state, step and per-agent results. */
  async getRequest(requestId: unknown): Promise<LbRequestRecord> {
    const id = parseLbId(requestId, 'requestId');
    const r = await this.store.getRequest(id);
    if (!r) throw new LbError('NOT_FOUND', `requestId: no request ${id}`, { field: 'requestId' });
    return r.value;
  }

  /** Cancels a request (see {@link LbRequestStore.cancel}). */
  async cancel(requestId: unknown): Promise<LbRequestRecord> {
    return this.store.cancel(parseLbId(requestId, 'requestId'), Date.now());
  }

  /** A service as last applied on every agent of its groups. */
  async getService(serviceId: unknown): Promise<LbServiceRecord> {
    const id = parseLbId(serviceId, 'serviceId');
    const s = await this.store.getService(id);
    if (!s) throw new LbError('NOT_FOUND', `serviceId: no service ${id}`, { field: 'serviceId' });
    return s.value;
  }

  /** Every service, sorted by id. */
  async listServices(): Promise<LbServiceRecord[]> {
    const all = await this.store.listServices();
    return [...all.values()]
      .map((s) => s.value)
      .sort((a, b) => (a.service.serviceId < b.service.serviceId ? -1 : 1));
  }

  /** One group: its registered agents and its services. */
  async getGroup(group: unknown): Promise<LbGroupView> {
    const name = parseLbId(group, 'group');
    const agents = await this.store.groupAgents(name);
    if (agents === null)
      throw new LbError('NOT_FOUND', `group: no group ${name}`, { field: 'group' });
    const services = await this.listServices();
    const serviceIds = services
      .filter((s) => s.service.groups.includes(name))
      .map((s) => s.service.serviceId);
    return { group: name, agents: agents.sort(), serviceIds };
  }

  /** Every known group. */
  async listGroups(): Promise<LbGroupView[]> {
    const names = (await this.store.knownGroups()).sort();
    return Promise.all(names.map((g) => this.getGroup(g)));
  }
}
