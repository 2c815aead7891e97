/**
 * The deploy intents any replica writes (`/intents/bounce`, `/intents/deploy-cancel`,
 * `/intents/deploy-advance`) as the deploy driver reads them: from the leadership's watched
 * caches (no ZooKeeper read per cycle, issue 12), once each cache has applied what it was
 * notified of — the leader's own removals included, so an advance it consumed is never
 * applied twice, nor a finished bounce started again.
 */
import type { z } from 'zod';
import { type TreeCache, decodeJson } from '../coordination/index.js';
import {
  type BounceIntent,
  type DeployAdvanceIntent,
  type DeployCancelIntent,
  bounceIntentSchema,
  deployAdvanceIntentSchema,
  deployCancelIntentSchema,
  statePaths,
} from '../state/index.js';

/** A request's cancel and advance intents, if any. */
export interface RequestDeployIntents {
  cancel: DeployCancelIntent | null;
  advance: DeployAdvanceIntent | null;
}

/** Where the deploy driver reads intents from. */
export interface DeployIntentSource {
  /** Request ids with a bounce intent. */
  bouncing(): Promise<string[]>;
  /** The request's bounce intent (its `at` marks the bounce started from it). */
  bounceIntent(requestId: string): Promise<BounceIntent | null>;
  /** The request's cancel and advance intents. */
  forRequest(requestId: string): Promise<RequestDeployIntents>;
}

/** The three caches the source reads. */
export interface DeployIntentCaches {
  bounce: TreeCache;
  cancel: TreeCache;
  advance: TreeCache;
}

/** Resolves once `cache` is loaded and settled; rejects after `maxWaitMs` (retried next cycle). */
async function settledCache(cache: TreeCache, maxWaitMs: number): Promise<void> {
  await Promise.race([
    cache.whenSynced().then(() => cache.settled()),
    new Promise((_resolve, reject) =>
      setTimeout(() => reject(new Error('deploy intents cache lagging')), maxWaitMs).unref(),
    ),
  ]);
}

function cachedIntent<T>(cache: TreeCache, path: string, schema: z.ZodType<T>): T | null {
  const node = cache.get(path);
  if (!node) return null;
  try {
    return decodeJson(node.data, path, schema);
  } catch {
    return null;
  }
}

/**
 * Intents from the caches. An intent that does not decode counts as absent (it changes
 * nothing; the API that wrote it validated it).
 */
export function cachedDeployIntents(
  caches: DeployIntentCaches,
  maxWaitMs = 5_000,
): DeployIntentSource {
  return {
    async bouncing() {
      await settledCache(caches.bounce, maxWaitMs);
      return caches.bounce.childNames(statePaths.intentsDir('bounce'));
    },
    async bounceIntent(requestId) {
      await settledCache(caches.bounce, maxWaitMs);
      return cachedIntent(
        caches.bounce,
        statePaths.intent('bounce', requestId),
        bounceIntentSchema,
      );
    },
    async forRequest(requestId) {
      await Promise.all([
        settledCache(caches.cancel, maxWaitMs),
        settledCache(caches.advance, maxWaitMs),
      ]);
      return {
        cancel: cachedIntent(
          caches.cancel,
          statePaths.intent('deploy-cancel', requestId),
          deployCancelIntentSchema,
        ),
        advance: cachedIntent(
          caches.advance,
          statePaths.intent('deploy-advance', requestId),
          deployAdvanceIntentSchema,
        ),
      };
    },
  };
}
