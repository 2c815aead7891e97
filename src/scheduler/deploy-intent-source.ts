/**
 * The deploy intents any replica writes (`/intents/bounce`, `/intents/deploy-cancel`,
 * `/intents/deploy-advance`) as the deploy driver reads them: from the leadership's watched
 * caches (no ZooKeeper read per cycle, issue 12), once per cycle after each cache has applied
 * what it was notified of — the leader's own removals included, so an advance it consumed is
 * never applied twice, nor a finished bounce started again.
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
  treesCaughtUp,
} from '../state/index.js';

/** A request's cancel and advance intents, if any. */
export interface RequestDeployIntents {
  cancel: DeployCancelIntent | null;
  advance: DeployAdvanceIntent | null;
}

/** The intents as one cycle reads them (the caches, caught up when the view was taken). */
export interface DeployIntentView {
  /** Request ids with a bounce intent. */
  bouncing: ReadonlySet<string>;
  /** The request's cancel and advance intents. */
  forRequest(requestId: string): RequestDeployIntents;
  /** The request's bounce intent (its `at` marks the bounce started from it). */
  bounceIntent(requestId: string): BounceIntent | null;
}

/** Where the deploy driver reads intents from. */
export interface DeployIntentSource {
  /**
   * The intents once every cache has caught up; rejects with CacheLagError after the source's
   * wait (the cycle is retried). One wait per cycle: within it, the driver removes only the
   * intents of the request it is on, after reading them.
   */
  current(): Promise<DeployIntentView>;
}

/** The three caches the source reads. */
export interface DeployIntentCaches {
  bounce: TreeCache;
  cancel: TreeCache;
  advance: TreeCache;
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
    async current() {
      await treesCaughtUp([caches.bounce, caches.cancel, caches.advance], maxWaitMs);
      return {
        bouncing: new Set(caches.bounce.childNames(statePaths.intentsDir('bounce'))),
        bounceIntent: (requestId) =>
          cachedIntent(caches.bounce, statePaths.intent('bounce', requestId), bounceIntentSchema),
        forRequest: (requestId) => ({
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
        }),
      };
    },
  };
}
