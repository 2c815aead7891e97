import {
  type Deploy,
  DeployIntentStore,
  DeployStore,
  RequestStore,
  bounceInputSchema,
  deployCancelInputSchema,
  isLongRunning,
  deployIdSchema,
  deployUpdateInputSchema,
  parseId,
  parseInput,
  requestIdSchema,
} from '../state/index.js';
import type { Coordinator } from '../coordination/index.js';
import { ApiError } from './errors.js';

/** What a cancel or an update answers: the deploy it was written for. */
export interface DeployIntentAnswer {
  requestId: string;
  deployId: string;
  accepted: true;
}

/** What a bounce answers: also when it was asked for (this replica's clock), for `--wait`. */
export interface BounceAnswer extends DeployIntentAnswer {
  at: number;
}

/**
 * Deploy commands and the deploy history (Singularity's paths), shared by HTTP and gRPC:
 * every input validated first; a cancel or an update is written as an intent the leader
 * drains (DESIGN.md: commands that need the leader are durable intents).
 */
export class DeploysApi {
  private readonly requests: RequestStore;
  private readonly deploys: DeployStore;
  private readonly intents: DeployIntentStore;

  constructor(zk: Coordinator) {
    this.requests = new RequestStore(zk);
    this.deploys = new DeployStore(zk, this.requests);
    this.intents = new DeployIntentStore(zk);
  }

  /** Cancels the request's pending deploy `deployId` (a rollback, result CANCELED). */
  async cancel(deployId: unknown, requestId: unknown, body: unknown): Promise<DeployIntentAnswer> {
    const did = parseId(deployIdSchema, deployId, 'deployId');
    const rid = parseId(requestIdSchema, requestId, 'requestId');
    const input = parseInput(deployCancelInputSchema, body ?? {});
    await this.requirePending(rid, did);
    await this.intents.cancel({
      requestId: rid,
      deployId: did,
      at: Date.now(),
      ...(input.message ? { message: input.message } : {}),
    });
    return { requestId: rid, deployId: did, accepted: true };
  }

  /** Advances the request's pending deploy: the next step now, or to `targetActiveInstances`. */
  async update(body: unknown): Promise<DeployIntentAnswer> {
    const input = parseInput(deployUpdateInputSchema, body ?? null);
    await this.requirePending(input.requestId, input.deployId);
    await this.intents.advance({ ...input, at: Date.now() });
    return { requestId: input.requestId, deployId: input.deployId, accepted: true };
  }

  /**
   * A rolling restart of the request's active deploy through the deploy steps. Refused
   * (CONFLICT) while a deploy is pending, or when the request is not a running long-running one.
   */
  async bounce(requestId: unknown, body: unknown): Promise<BounceAnswer> {
    const rid = parseId(requestIdSchema, requestId, 'requestId');
    const input = parseInput(bounceInputSchema, body ?? {});
    const { value: record } = await this.requests.get(rid);
    if (!isLongRunning(record.request.requestType) || record.state !== 'ACTIVE') {
      throw new ApiError(
        'CONFLICT',
        `requestId: ${rid} is ${record.state} ${record.request.requestType}; only an ACTIVE ` +
          'long-running request bounces',
        { field: 'requestId' },
      );
    }
    const { active, pending } = await this.deploys.forRequest(rid);
    if (!active || pending) {
      const why = pending ? `deploy ${pending.id} is pending` : 'it has no active deploy';
      throw new ApiError('CONFLICT', `requestId: ${rid} cannot bounce: ${why}`, {
        field: 'requestId',
      });
    }
    const at = Date.now();
    await this.intents.bounce({
      requestId: rid,
      deployId: active.id,
      at,
      ...(input.message ? { message: input.message } : {}),
    });
    return { requestId: rid, deployId: active.id, accepted: true, at };
  }

  /** The request's ended deploys (with their results), newest first. */
  async history(requestId: unknown): Promise<Deploy[]> {
    const rid = parseId(requestIdSchema, requestId, 'requestId');
    await this.requests.get(rid);
    const [history, active] = await Promise.all([
      this.deploys.list(rid, 'history'),
      this.deploys.list(rid, 'active'),
    ]);
    return [...active, ...history]
      .map((d) => d.value)
      .filter((d) => d.deployResult !== undefined)
      .sort((a, b) => (b.deployResult?.timestamp ?? 0) - (a.deployResult?.timestamp ?? 0));
  }

  /** One deploy of the request, wherever it is (pending, active or history). */
  async deploy(requestId: unknown, deployId: unknown): Promise<Deploy> {
    const rid = parseId(requestIdSchema, requestId, 'requestId');
    const did = parseId(deployIdSchema, deployId, 'deployId');
    const found = await this.deploys.find(rid, did);
    if (!found) {
      throw new ApiError('NOT_FOUND', `deployId: no deploy ${did} of ${rid}`, {
        field: 'deployId',
      });
    }
    return found;
  }

  private async requirePending(rid: string, did: string): Promise<void> {
    const { pending } = await this.deploys.forRequest(rid);
    if (pending?.id !== did) {
      const what = pending ? `the pending deploy is ${pending.id}` : 'no deploy is pending';
      throw new ApiError('NOT_FOUND', `deployId: ${did} is not pending on ${rid} (${what})`, {
        field: 'deployId',
      });
    }
  }
}
