import { LbError } from './lb-error.js';
import {
  type Coordinator,
  type ZkOp,
  ZkError,
  decodeJson,
  encodeJson,
  zkPaths,
} from '../coordination/index.js';
import {
  type LbRequest,
  type LbRequestRecord,
  type LbServiceRecord,
  canonicalRequestJson,
  lbRequestRecordSchema,
  lbServiceRecordSchema,
} from './lb-model.js';

/** A stored document with its znode version, for compare-and-set. */
export interface Versioned<T> {
  value: T;
  version: number;
}

/** `/lb/groups`: one persistent znode per group that has or had lb-agents. */
export const LB_GROUPS_DIR = '/lb/groups';

/**
 * The load-balancer state in ZooKeeper (DESIGN.md, "ZooKeeper layout"). Any replica submits
 * and cancels requests with compare-and-set writes; the leader's transitions are built here
 * as `ZkOp` lists (one `multi` each) and written through its fenced writer.
 */
export class LbRequestStore {
  private dirsReady: Promise<void> | undefined;

  constructor(private readonly zk: Coordinator) {}

  /** Creates `/lb/requests`, `/lb/services` and `/lb/groups` once per store. */
  ensureDirs(): Promise<void> {
    this.dirsReady ??= (async () => {
      for (const dir of [zkPaths.lbRequestsDir, zkPaths.lbServicesDir, LB_GROUPS_DIR]) {
        await this.zk.mkdirp(dir);
      }
    })().catch((err: unknown) => {
      this.dirsReady = undefined;
      throw err;
    });
    return this.dirsReady;
  }

  /**
   * Stores a new WAITING request (CAS create). The same id with the same body returns the
   * stored request; with another body, ALREADY_EXISTS. Writes: `/lb/requests/<id>`.
   */
  async submit(request: LbRequest, now: number): Promise<LbRequestRecord> {
    await this.ensureDirs();
    const record: LbRequestRecord = {
      requestId: request.requestId,
      request,
      state: 'WAITING',
      step: 'QUEUED',
      agents: [],
      submittedAt: now,
      updatedAt: now,
    };
    const path = requestPath(request.requestId);
    try {
      await this.zk.create(path, encodeJson(record, path));
      return record;
    } catch (err) {
      if (!(err instanceof ZkError && err.code === 'NODE_EXISTS')) throw err;
    }
    const existing = await this.getRequest(request.requestId);
    if (!existing) throw new LbError('CONFLICT', `request ${request.requestId} changed; retry`);
    if (canonicalRequestJson(existing.value.request) !== canonicalRequestJson(request)) {
      throw new LbError(
        'ALREADY_EXISTS',
        `requestId: ${request.requestId} exists with a different body`,
        { field: 'requestId' },
      );
    }
    return existing.value;
  }

  /** Reads a request, or null. */
  async getRequest(requestId: string): Promise<Versioned<LbRequestRecord> | null> {
    const path = requestPath(requestId);
    const node = await this.zk.getOrNull(path);
    if (!node) return null;
    return { value: decodeJson(node.data, path, lbRequestRecordSchema), version: node.version };
  }

  /**
   * Cancels a request: a queued one becomes CANCELED, one in flight CANCELING (the leader
   * reverts it, then marks it CANCELED). Terminal requests are returned as they are.
   * Writes: `/lb/requests/<id>` (CAS; retried on a concurrent change).
   */
  async cancel(requestId: string, now: number): Promise<LbRequestRecord> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.getRequest(requestId);
      if (!current) throw new LbError('NOT_FOUND', `requestId: no request ${requestId}`);
      const r = current.value;
      if (r.state !== 'WAITING') return r;
      const next: LbRequestRecord =
        r.step === 'QUEUED'
          ? { ...r, state: 'CANCELED', step: 'DONE', message: 'canceled', updatedAt: now }
          : { ...r, state: 'CANCELING', updatedAt: now };
      try {
        const path = requestPath(requestId);
        await this.zk.set(path, encodeJson(next, path), current.version);
        return next;
      } catch (err) {
        if (!(err instanceof ZkError && err.code === 'BAD_VERSION')) throw err;
      }
    }
    throw new LbError('CONFLICT', `request ${requestId} keeps changing; retry`);
  }

  /** Every stored service with its znode version. */
  async listServices(): Promise<Map<string, Versioned<LbServiceRecord>>> {
    await this.ensureDirs();
    const ids = await this.zk.children(zkPaths.lbServicesDir);
    const entries = await Promise.all(
      ids.map(async (id) => [id, await this.getService(id)] as const),
    );
    const out = new Map<string, Versioned<LbServiceRecord>>();
    for (const [id, s] of entries) if (s) out.set(id, s);
    return out;
  }

  /** Reads a service, or null. */
  async getService(serviceId: string): Promise<Versioned<LbServiceRecord> | null> {
    const path = servicePath(serviceId);
    const node = await this.zk.getOrNull(path);
    if (!node) return null;
    return { value: decodeJson(node.data, path, lbServiceRecordSchema), version: node.version };
  }

  /** Names of the groups that have or had lb-agents. */
  async knownGroups(): Promise<string[]> {
    await this.ensureDirs();
    return this.zk.children(LB_GROUPS_DIR);
  }

  /** The lb-agents registered in a group now, or null for an unknown group. */
  async groupAgents(group: string): Promise<string[] | null> {
    try {
      return await this.zk.children(zkPaths.lbGroupAgentsDir(group));
    } catch (err) {
      if (err instanceof ZkError && err.code === 'NO_NODE') return null;
      throw err;
    }
  }

  /** Names of every stored request. */
  async requestIds(watcher?: () => void): Promise<string[]> {
    await this.ensureDirs();
    return this.zk.children(zkPaths.lbRequestsDir, watcher);
  }
}

/** Path of a stored request. */
export function requestPath(requestId: string): string {
  return `${zkPaths.lbRequestsDir}/${requestId}`;
}

/** Path of a stored service. */
export function servicePath(serviceId: string): string {
  return `${zkPaths.lbServicesDir}/${serviceId}`;
}

/** Op: overwrite a request at `version` (CAS). */
export function setRequestOp(record: LbRequestRecord, version: number): ZkOp {
  const path = requestPath(record.requestId);
  return { op: 'set', path, data: encodeJson(record, path), version };
}

/**
 * Ops of the SUCCESS transition: the request and `/lb/services/<id>` in one multi. Reads
 * (by the caller): the request's and the service's znode versions. `next` null deletes.
 */
export function commitServiceOps(
  serviceId: string,
  next: LbServiceRecord | null,
  serviceVersion: number | null,
): ZkOp[] {
  const path = servicePath(serviceId);
  if (next === null) {
    return serviceVersion === null ? [] : [{ op: 'remove', path, version: serviceVersion }];
  }
  const data = encodeJson(next, path);
  return serviceVersion === null
    ? [{ op: 'create', path, data }]
    : [{ op: 'set', path, data, version: serviceVersion }];
}
