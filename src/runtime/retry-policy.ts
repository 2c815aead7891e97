/**
 * The one place that says which failures are worth retrying and how long to wait between
 * attempts. Every retry or reconnect loop in Thales picks a named policy here: exponential
 * back-off with decorrelated jitter (cockatiel), capped, and bounded in attempts unless it is
 * a daemon's reconnect loop, which never gives up but never spins either.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ExponentialBackoff, type IBackoff, type RetryPolicy, handleWhen, retry } from 'cockatiel';

/** One policy's bounds. */
export interface RetryPolicySpec {
  /** The first delay (the next ones grow exponentially, with jitter). */
  initialMs: number;
  /** No single delay is longer. */
  maxMs: number;
  /** Attempts in all before giving up; `Infinity` for reconnect loops. */
  maxAttempts: number;
}

/** The named policies. */
export const RETRY_POLICIES = {
  /** A ZooKeeper call across a short connection loss (the session outlives it). */
  zookeeper: { initialMs: 100, maxMs: 2_000, maxAttempts: 8 },
  /** A fenced leader write that is safe to repeat (launch rounds, status batches). */
  leaderWrite: { initialMs: 100, maxMs: 2_000, maxAttempts: 20 },
  /** Rejoining the leader latch after an establish that failed. */
  establish: { initialMs: 500, maxMs: 10_000, maxAttempts: Infinity },
  /**
   * A write of task state only this leader makes (a batch of status updates, a LOST
   * decision): retried with capped delays for as long as the leadership lasts, since no one
   * else would make it; revoking the leadership ends the loop.
   */
  leaderStateWrite: { initialMs: 100, maxMs: 2_000, maxAttempts: Infinity },
  /** A replica's or agent's registration znode (and a replica's leader latch znode). */
  registration: { initialMs: 100, maxMs: 2_000, maxAttempts: Infinity },
  /** An agent's or lb-agent's stream to the leader. */
  leaderStream: { initialMs: 100, maxMs: 5_000, maxAttempts: Infinity },
  /**
   * The same stream while the elected replica answers "not the leader" about itself: it is
   * establishing (claiming its term, rebuilding its state), which takes well under a second,
   * so it is asked again soon; after ~10 s of that, `leaderStream` takes over.
   */
  electedLeader: { initialMs: 50, maxMs: 250, maxAttempts: 40 },
  /** A load-balancer request the leader could not take in yet. */
  lbIntake: { initialMs: 200, maxMs: 10_000, maxAttempts: 12 },
} as const satisfies Record<string, RetryPolicySpec>;

/** A policy's name. */
export type RetryPolicyName = keyof typeof RETRY_POLICIES;

/**
 * Which failures are transient, by kind: gRPC statuses, OS error codes (also as the `cause` of
 * a failed `fetch`), and API codes answered by a replica. ZooKeeper errors say it themselves
 * (`ZkError.retryable`, from coordination's `ZK_RETRY_POLICY`).
 */
export const RETRYABLE_ERRORS = {
  grpc: new Set<number>([
    GrpcStatus.UNAVAILABLE,
    GrpcStatus.DEADLINE_EXCEEDED,
    GrpcStatus.RESOURCE_EXHAUSTED,
  ]),
  os: new Set<string>([
    'ECONNREFUSED',
    'ECONNRESET',
    'EPIPE',
    'ETIMEDOUT',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'EAI_AGAIN',
    'UND_ERR_SOCKET',
    'UND_ERR_CONNECT_TIMEOUT',
  ]),
  api: new Set<string>(['UNAVAILABLE', 'NOT_LEADER']),
};

/** Whether retrying what failed with `err` may succeed. */
export function isRetryableError(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  const { retryable, code, cause } = err as {
    retryable?: unknown;
    code?: unknown;
    cause?: unknown;
  };
  if (typeof retryable === 'boolean') return retryable;
  if (typeof code === 'number' && RETRYABLE_ERRORS.grpc.has(code)) return true;
  if (typeof code === 'string' && (RETRYABLE_ERRORS.os.has(code) || RETRYABLE_ERRORS.api.has(code)))
    return true;
  return cause !== undefined && isRetryableError(cause, depth + 1);
}

/**
 * A cockatiel retry policy for calls: retries only {@link isRetryableError} failures, with the
 * named policy's back-off and attempts.
 */
export function retryPolicy(name: RetryPolicyName): RetryPolicy {
  const spec: RetryPolicySpec = RETRY_POLICIES[name];
  return retry(handleWhen(isRetryableError), {
    maxAttempts: Number.isFinite(spec.maxAttempts) ? spec.maxAttempts - 1 : Number.MAX_SAFE_INTEGER,
    backoff: makeBackoff(spec),
  });
}

/**
 * The delays of a loop that retries by itself (reconnecting streams, rejoining the latch):
 * `next()` is the wait before the next attempt, `reset()` after a success.
 */
export class Backoff {
  private readonly spec: RetryPolicySpec;
  private current: IBackoff<unknown> | undefined;
  private attemptsMade = 0;

  constructor(name: RetryPolicyName) {
    this.spec = RETRY_POLICIES[name];
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.attemptsMade;
  }

  /** Whether the policy's attempts are used up. */
  get exhausted(): boolean {
    return this.attemptsMade >= this.spec.maxAttempts;
  }

  /** The delay before the next attempt (ms); counts one failed attempt. */
  next(): number {
    this.attemptsMade++;
    this.current = (this.current ?? makeBackoff(this.spec)).next(undefined);
    return Math.round(this.current.duration);
  }

  /** Starts over from the first delay. */
  reset(): void {
    this.current = undefined;
    this.attemptsMade = 0;
  }
}

function makeBackoff(spec: RetryPolicySpec): ExponentialBackoff<unknown> {
  return new ExponentialBackoff({ initialDelay: spec.initialMs, maxDelay: spec.maxMs });
}
