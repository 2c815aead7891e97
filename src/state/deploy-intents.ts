import { z } from 'zod';
import type { Coordinator } from '../coordination/index.js';
import { deployIdSchema, requestIdSchema } from './request-model.js';
import { statePaths } from './state-paths.js';
import { childrenOrEmpty, ensureStateDirs, readJson, toData } from './zk-json-store.js';

/**
 * `DELETE /api/deploys/deploy/{deployId}/request/{requestId}`: cancel the request's deploy in
 * progress (`/intents/deploy-cancel/<requestId>`; the leader rolls it back and removes the
 * intent with the deploy's result).
 */
export const deployCancelIntentSchema = z.object({
  requestId: z.string(),
  deployId: z.string(),
  message: z.string().optional(),
  at: z.number(),
});
/** A cancel intent. */
export type DeployCancelIntent = z.infer<typeof deployCancelIntentSchema>;

/**
 * `POST /api/deploys/update`: go to the next step now, or to `targetActiveInstances`
 * (`/intents/deploy-advance/<requestId>`; removed when the leader persists the step it led to).
 */
export const deployAdvanceIntentSchema = z.object({
  requestId: z.string(),
  deployId: z.string(),
  targetActiveInstances: z.number().optional(),
  at: z.number(),
});
/** An advance intent. */
export type DeployAdvanceIntent = z.infer<typeof deployAdvanceIntentSchema>;

/**
 * `POST /api/requests/request/{id}/bounce`: a rolling restart of the active deploy
 * (`/intents/bounce/<requestId>`; kept while the bounce runs, removed with its result).
 */
export const bounceIntentSchema = z.object({
  requestId: z.string(),
  deployId: z.string(),
  message: z.string().optional(),
  at: z.number(),
});
/** A bounce intent. */
export type BounceIntent = z.infer<typeof bounceIntentSchema>;

/** Singularity's `SingularityBounceRequest` (the fields Thales reads; others refused by name). */
export const bounceInputSchema = z.strictObject({
  message: z.string().max(1000).optional(),
  actionId: z.string().max(100).optional(),
  incremental: z.boolean().optional(),
});

/** Singularity's `SingularityUpdatePendingDeployRequest`, validated at the edge. */
export const deployUpdateInputSchema = z.strictObject({
  requestId: requestIdSchema,
  deployId: deployIdSchema,
  targetActiveInstances: z.int().min(1).max(10_000).optional(),
});

/** The optional body of a cancel (a message kept in the result). */
export const deployCancelInputSchema = z.strictObject({
  message: z.string().max(1000).optional(),
});

/** Reads and writes the deploy intents (any replica writes; the leader reads and removes). */
export class DeployIntentStore {
  constructor(private readonly zk: Coordinator) {}

  /** Writes (or replaces) the request's cancel intent. */
  async cancel(intent: DeployCancelIntent): Promise<void> {
    await this.put(statePaths.intent('deploy-cancel', intent.requestId), intent);
  }

  /** Writes (or replaces) the request's advance intent. */
  async advance(intent: DeployAdvanceIntent): Promise<void> {
    await this.put(statePaths.intent('deploy-advance', intent.requestId), intent);
  }

  /** Writes (or replaces) the request's bounce intent. */
  async bounce(intent: BounceIntent): Promise<void> {
    await this.put(statePaths.intent('bounce', intent.requestId), intent);
  }

  /** Request ids with a bounce intent (one children read). */
  async bouncing(): Promise<string[]> {
    return childrenOrEmpty(this.zk, statePaths.intentsDir('bounce'));
  }

  /** The request's bounce intent, if any. */
  async bounceIntent(requestId: string): Promise<BounceIntent | null> {
    const read = await readJson(
      this.zk,
      statePaths.intent('bounce', requestId),
      bounceIntentSchema,
    );
    return read?.value ?? null;
  }

  /** The request's intents, if any. */
  async forRequest(
    requestId: string,
  ): Promise<{ cancel: DeployCancelIntent | null; advance: DeployAdvanceIntent | null }> {
    const [cancel, advance] = await Promise.all([
      readJson(this.zk, statePaths.intent('deploy-cancel', requestId), deployCancelIntentSchema),
      readJson(this.zk, statePaths.intent('deploy-advance', requestId), deployAdvanceIntentSchema),
    ]);
    return { cancel: cancel?.value ?? null, advance: advance?.value ?? null };
  }

  private async put(path: string, value: object): Promise<void> {
    await ensureStateDirs(this.zk);
    const data = toData(value, path);
    try {
      await this.zk.create(path, data);
    } catch (err) {
      if ((err as { code?: string }).code !== 'NODE_EXISTS') throw err;
      await this.zk.set(path, data, -1);
    }
  }
}
