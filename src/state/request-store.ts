import { type Coordinator, ZkError, linearizableBarrier } from '../coordination/index.js';
import {
  type Request,
  type RequestRecord,
  type RequestState,
  requestRecordSchema,
} from './request-model.js';
import { StateError } from './state-error.js';
import { statePaths } from './state-paths.js';
import {
  type Versioned,
  ensureStateDirs,
  readChildren,
  readJson,
  toData,
  toStateError,
} from './zk-json-store.js';

/** What {@link RequestStore.upsert} wrote. */
export interface Upserted {
  record: RequestRecord;
  created: boolean;
}

/**
 * `/requests/<id>`, written by any replica with compare-and-set: a concurrent change is a
 * CONFLICT, never a silent overwrite. The leader reads it (and writes only the cooldown
 * state, also by compare-and-set, inside its fenced multi).
 */
export class RequestStore {
  constructor(private readonly zk: Coordinator) {}

  /** The request, or NOT_FOUND. */
  async get(requestId: string): Promise<Versioned<RequestRecord>> {
    const found = await readJson(this.zk, statePaths.request(requestId), requestRecordSchema);
    if (!found) throw new StateError('NOT_FOUND', `request ${requestId} does not exist`);
    return found;
  }

  /**
   * The request for a write that depends on it (a deploy, a scale): NOT_FOUND only after a
   * quorum-ordered barrier. This replica's ZooKeeper server may not have applied yet a create
   * another replica's client had acknowledged (a member catching up after a restart); a
   * client that created a request and then deploys it through another replica must not be
   * told it does not exist.
   */
  async getForWrite(requestId: string): Promise<Versioned<RequestRecord>> {
    const found = await readJson(this.zk, statePaths.request(requestId), requestRecordSchema);
    if (found) return found;
    await linearizableBarrier(this.zk);
    return this.get(requestId);
  }

  /** Every request. */
  async list(): Promise<Versioned<RequestRecord>[]> {
    return readChildren(this.zk, statePaths.requestsDir, requestRecordSchema);
  }

  /**
   * Creates the request (ACTIVE), or replaces its definition keeping its state, as
   * Singularity's `POST /api/requests` does. A request being deleted cannot be changed.
   * Returns the record written, and whether it was created.
   */
  async upsert(request: Request, now = Date.now()): Promise<Upserted> {
    await ensureStateDirs(this.zk);
    const path = statePaths.request(request.id);
    try {
      // Create first: a new request costs one round trip (no read that finds nothing first);
      // an existing one is then read and replaced by compare-and-set.
      const record: RequestRecord = { request, state: 'ACTIVE', timestamp: now };
      if (await this.createIfMissing(path, record)) return { record, created: true };
      const existing = await readJson(this.zk, path, requestRecordSchema);
      if (!existing) throw new StateError('CONFLICT', `request ${request.id} was just deleted`);
      if (existing.value.state === 'DELETING') {
        throw new StateError('CONFLICT', `request ${request.id} is being deleted`);
      }
      if (existing.value.request.requestType !== request.requestType) {
        throw new StateError('INVALID_ARGUMENT', 'requestType: cannot change an existing request');
      }
      const next: RequestRecord = { ...existing.value, request, timestamp: now };
      await this.zk.set(path, toData(next, path), existing.version);
      return { record: next, created: false };
    } catch (err) {
      throw toStateError(err, `request ${request.id}`);
    }
  }

  /** Creates the znode; false if it exists already. */
  private async createIfMissing(path: string, record: RequestRecord): Promise<boolean> {
    try {
      await this.zk.create(path, toData(record, path));
      return true;
    } catch (err) {
      if (err instanceof ZkError && err.code === 'NODE_EXISTS') return false;
      throw err;
    }
  }

  /**
   * Applies `change` to the current record with compare-and-set. `change` may throw a
   * StateError to refuse (nothing is written).
   */
  async update(
    requestId: string,
    change: (current: RequestRecord) => RequestRecord,
  ): Promise<RequestRecord> {
    const current = await this.getForWrite(requestId);
    const next = { ...change(current.value), timestamp: Date.now() };
    const path = statePaths.request(requestId);
    try {
      await this.zk.set(path, toData(next, path), current.version);
    } catch (err) {
      throw toStateError(err, `request ${requestId}`);
    }
    return next;
  }

  /** Sets the desired instance count. */
  scale(requestId: string, instances: number): Promise<RequestRecord> {
    return this.update(requestId, (r) => {
      refuseIfDeleting(r);
      return { ...r, request: { ...r.request, instances } };
    });
  }

  /** ACTIVE/SYSTEM_COOLDOWN → PAUSED (the leader kills the tasks). */
  pause(requestId: string): Promise<RequestRecord> {
    return this.setState(requestId, ['ACTIVE', 'SYSTEM_COOLDOWN', 'PAUSED'], 'PAUSED');
  }

  /** PAUSED → ACTIVE. */
  unpause(requestId: string): Promise<RequestRecord> {
    return this.setState(requestId, ['PAUSED', 'ACTIVE'], 'ACTIVE');
  }

  /** Marks the request DELETING; the leader kills its tasks, then removes it. */
  markDeleting(requestId: string): Promise<RequestRecord> {
    return this.update(requestId, (r) => ({ ...r, state: 'DELETING' }));
  }

  private setState(
    requestId: string,
    from: RequestState[],
    to: RequestState,
  ): Promise<RequestRecord> {
    return this.update(requestId, (r) => {
      if (!from.includes(r.state)) {
        throw new StateError('CONFLICT', `request ${requestId} is ${r.state}, cannot become ${to}`);
      }
      const next: RequestRecord = { ...r, state: to };
      delete next.stateMessage;
      return next;
    });
  }
}

function refuseIfDeleting(r: RequestRecord): void {
  if (r.state === 'DELETING') {
    throw new StateError('CONFLICT', `request ${r.request.id} is being deleted`);
  }
}
