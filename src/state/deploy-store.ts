import { type Coordinator, ZkError, type ZkOp } from '../coordination/index.js';
import { type Deploy, MAX_DEPLOY_BYTES, deploySchema } from './deploy-model.js';
import { type DeployProgress, deployProgressSchema } from './deploy-progress-model.js';
import { checkDeployForRequest } from './deploy-validation.js';
import type { RequestRecord } from './request-model.js';
import type { RequestStore } from './request-store.js';
import { StateError } from './state-error.js';
import { type DeployKind, statePaths } from './state-paths.js';
import {
  type Versioned,
  childrenOrEmpty,
  ensureStateDirs,
  readChildren,
  readJson,
  toData,
  toStateError,
} from './zk-json-store.js';

/** The deploys of one request by where they are in their life. */
export interface RequestDeploys {
  active: Deploy | null;
  pending: Deploy | null;
}

/**
 * What {@link DeployStore.submit} wrote: the deploy, the request as it was checked in the
 * same multi, and whether this was the request's first deploy (its directories were created
 * with it: nothing else is active, pending or in progress).
 */
export interface Submitted {
  deploy: Deploy;
  request: RequestRecord;
  first: boolean;
}

/**
 * `/deploys/<requestId>/pending|active|history/<deployId>`. Any replica submits a pending
 * deploy (at most one per request, enforced by a compare-and-set on the pending directory in
 * the same multi); the leader promotes it to active once its tasks run.
 */
export class DeployStore {
  constructor(
    private readonly zk: Coordinator,
    private readonly requests: RequestStore,
  ) {}

  /**
   * Stores `deploy` as the request's pending deploy, after the checks that need the request
   * (its version is checked in the same multi, so they hold for what is written).
   */
  async submit(deploy: Deploy): Promise<Submitted> {
    const rid = deploy.requestId;
    const request = await this.requests.getForWrite(rid);
    if (request.value.state === 'DELETING') {
      throw new StateError('CONFLICT', `request ${rid} is being deleted`);
    }
    checkDeployForRequest(deploy, request.value.request);
    const path = statePaths.deploy(rid, 'pending', deploy.id);
    const data = toData(deploy, path);
    if (data.length > MAX_DEPLOY_BYTES) {
      throw new StateError('INVALID_ARGUMENT', `deploy: over ${MAX_DEPLOY_BYTES} bytes stored`);
    }
    await ensureStateDirs(this.zk);
    const check: ZkOp = { op: 'check', path: statePaths.request(rid), version: request.version };
    const first = await this.submitFirst(deploy, check, data);
    if (!first) await this.submitNext(deploy, check, data);
    return { deploy, request: request.value, first };
  }

  /**
   * The request's first deploy: its directories and the pending deploy in one multi (one
   * round trip, where creating the directories one level at a time took four serial ones).
   * False when the request already has a deploy directory (nothing was written).
   */
  private async submitFirst(deploy: Deploy, check: ZkOp, data: Buffer): Promise<boolean> {
    const rid = deploy.requestId;
    const root = statePaths.deployRoot(rid);
    const ops: ZkOp[] = [
      check,
      { op: 'create', path: root, data: Buffer.alloc(0) },
      { op: 'create', path: statePaths.deployDir(rid, 'active'), data: Buffer.alloc(0) },
      // The pending directory holds the id of the deploy last submitted (its version is the
      // compare-and-set that keeps one pending deploy per request), as `submitNext` writes it.
      { op: 'create', path: statePaths.deployDir(rid, 'pending'), data: Buffer.from(deploy.id) },
      { op: 'create', path: statePaths.deployDir(rid, 'history'), data: Buffer.alloc(0) },
      { op: 'create', path: statePaths.deploy(rid, 'pending', deploy.id), data },
    ];
    try {
      await this.zk.multi(ops);
      return true;
    } catch (err) {
      if (err instanceof ZkError && err.code === 'NODE_EXISTS' && err.path === root) return false;
      throw toStateError(err, `deploy ${deploy.id} of ${rid}`);
    }
  }

  /** A later deploy: checks for a clash or a pending one, then one compare-and-set multi. */
  private async submitNext(deploy: Deploy, check: ZkOp, data: Buffer): Promise<void> {
    const rid = deploy.requestId;
    // Independent round trips go out together (a write's latency bounds a client's rate).
    // mkdirp: a directory an older replica had not finished creating.
    const kinds = ['active', 'pending', 'history'] as const;
    await Promise.all(kinds.map((kind) => this.zk.mkdirp(statePaths.deployDir(rid, kind))));
    const pendingDir = statePaths.deployDir(rid, 'pending');
    const [clashes, dir, pendingNames] = await Promise.all([
      Promise.all(kinds.map((kind) => this.zk.exists(statePaths.deploy(rid, kind, deploy.id)))),
      this.zk.get(pendingDir),
      childrenOrEmpty(this.zk, pendingDir),
    ]);
    if (clashes.some((stat) => stat !== null)) {
      throw new StateError('ALREADY_EXISTS', `deploy ${deploy.id} of ${rid} already exists`);
    }
    const other = pendingNames[0];
    if (other) throw new StateError('CONFLICT', `deploy ${other} of ${rid} is still pending`);
    const ops: ZkOp[] = [
      check,
      { op: 'set', path: pendingDir, data: Buffer.from(deploy.id), version: dir.version },
      { op: 'create', path: statePaths.deploy(rid, 'pending', deploy.id), data },
    ];
    try {
      await this.zk.multi(ops);
    } catch (err) {
      throw toStateError(err, `deploy ${deploy.id} of ${rid}`);
    }
  }

  /** The active and pending deploys of a request. */
  async forRequest(requestId: string): Promise<RequestDeploys> {
    const [active, pending] = await Promise.all([
      this.first(requestId, 'active'),
      this.first(requestId, 'pending'),
    ]);
    return { active: active?.value ?? null, pending: pending?.value ?? null };
  }

  /** The request's deploy progress document (in progress, or its last bounce), if any. */
  async progress(requestId: string): Promise<DeployProgress | null> {
    const found = await readJson(
      this.zk,
      statePaths.deployProgress(requestId),
      deployProgressSchema,
    );
    return found?.value ?? null;
  }

  /** Deploys of one kind. */
  list(requestId: string, kind: DeployKind): Promise<Versioned<Deploy>[]> {
    return readChildren(this.zk, statePaths.deployDir(requestId, kind), deploySchema);
  }

  /** One deploy, wherever it is. */
  async find(requestId: string, deployId: string): Promise<Deploy | null> {
    for (const kind of ['active', 'pending', 'history'] as const) {
      const found = await readJson(
        this.zk,
        statePaths.deploy(requestId, kind, deployId),
        deploySchema,
      );
      if (found) return found.value;
    }
    return null;
  }

  private async first(requestId: string, kind: DeployKind): Promise<Versioned<Deploy> | null> {
    return (await this.list(requestId, kind))[0] ?? null;
  }
}

/**
 * Ops that make `pending` the active deploy and move the previous one to history (leader,
 * fenced): one atomic transition.
 */
export function promoteDeployOps(pending: Deploy, previous: Deploy | null): ZkOp[] {
  const rid = pending.requestId;
  const ops: ZkOp[] = [
    { op: 'remove', path: statePaths.deploy(rid, 'pending', pending.id), version: -1 },
    {
      op: 'create',
      path: statePaths.deploy(rid, 'active', pending.id),
      data: toData(pending, statePaths.deploy(rid, 'active', pending.id)),
    },
  ];
  if (previous && previous.id !== pending.id) {
    const hist = statePaths.deploy(rid, 'history', previous.id);
    ops.push(
      { op: 'remove', path: statePaths.deploy(rid, 'active', previous.id), version: -1 },
      { op: 'create', path: hist, data: toData(previous, hist) },
    );
  }
  return ops;
}
