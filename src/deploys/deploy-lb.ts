import { createHash } from 'node:crypto';
import type { DeployProgress } from '../state/index.js';
import type { LbPresence, LbRequestOutcome } from './deploy-plan-types.js';

/** A load-balancer request touching a service, as the loop's driver derives presence from. */
export interface LbRequestTouch {
  state: LbRequestOutcome;
  /** Some agent's revert failed (a FAILED request may have left its change there). */
  revertFailed: boolean;
  /** Task ids whose upstreams it adds or removes. */
  add: readonly string[];
  remove: readonly string[];
}

/**
 * Where a task's upstream is (see {@link LbPresence}), from what the leader stores: the task
 * ids of the service's stored upstreams (applied on every lb-agent) and the requests on the
 * service since its stored version — still open, or failed with a revert that failed. A later
 * successful request pushes the whole service to every agent, which is why only requests
 * after the stored version count.
 */
export function lbPresence(
  taskId: string,
  stored: ReadonlySet<string>,
  since: readonly LbRequestTouch[],
): LbPresence {
  const suspect = since.some(
    (r) =>
      (r.state === 'WAITING' || r.state === 'CANCELING' || r.revertFailed) &&
      (r.add.includes(taskId) || r.remove.includes(taskId)),
  );
  if (suspect) return 'PARTIAL';
  return stored.has(taskId) ? 'ALL' : 'NONE';
}

/** Longest id the load balancer accepts (src/lb/lb-validation.ts). */
const MAX_LB_ID = 128;

/**
 * The id of the deploy's `n`th load-balancer request: deterministic, so a new leader
 * resubmitting the request in flight gets the existing one back (ids are idempotency keys).
 */
export function deployLbRequestId(progress: DeployProgress, n: number): string {
  const kind = progress.kind === 'BOUNCE' ? 'bounce' : 'deploy';
  const suffix = `-${kind}-${n}`;
  const base = `${progress.requestId}-${progress.deployId}-${progress.startedAt}`;
  if (base.length + suffix.length <= MAX_LB_ID) return `${base}${suffix}`;
  const digest = createHash('sha256').update(base).digest('hex').slice(0, 16);
  return `${progress.requestId.slice(0, MAX_LB_ID - suffix.length - 17)}-${digest}${suffix}`;
}

/** A failed request in a rollback is retried after 1 s, doubling, at most 30 s. */
export function lbRetryDelayMs(consecutiveFailures: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, consecutiveFailures - 1));
}

/** Whether an outcome is final (the request will not change the load balancer any more). */
export function isLbOutcomeFinal(o: LbRequestOutcome | undefined): boolean {
  return o !== undefined && o !== 'WAITING' && o !== 'CANCELING';
}
