import { status as GrpcStatus } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ZkError } from '../../../src/coordination/index.js';
import {
  Backoff,
  CodedError,
  RETRY_POLICIES,
  isRetryableError,
  retryPolicy,
} from '../../../src/runtime/index.js';

describe('isRetryableError', () => {
  it('follows ZooKeeper errors own verdict', () => {
    expect(isRetryableError(new ZkError('CONNECTION_LOSS', '/x'))).toBe(true);
    expect(isRetryableError(new ZkError('BAD_VERSION', '/x'))).toBe(false);
    expect(isRetryableError(new ZkError('SESSION_EXPIRED', '/x'))).toBe(false);
  });

  it('retries transient gRPC statuses only', () => {
    expect(isRetryableError({ code: GrpcStatus.UNAVAILABLE })).toBe(true);
    expect(isRetryableError({ code: GrpcStatus.DEADLINE_EXCEEDED })).toBe(true);
    expect(isRetryableError({ code: GrpcStatus.INVALID_ARGUMENT })).toBe(false);
    expect(isRetryableError({ code: GrpcStatus.ABORTED })).toBe(false);
  });

  it('retries OS connection errors, also as the cause of a failed fetch', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(isRetryableError(refused)).toBe(true);
    expect(isRetryableError(new TypeError('fetch failed', { cause: refused }))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('nope'), { code: 'ENOENT' }))).toBe(false);
  });

  it('retries a replica that is not the leader or unavailable, never bad input', () => {
    expect(isRetryableError(new CodedError('NOT_LEADER', 'x'))).toBe(true);
    expect(isRetryableError(new CodedError('UNAVAILABLE', 'x'))).toBe(true);
    expect(isRetryableError(new CodedError('INVALID_ARGUMENT', 'x'))).toBe(false);
    expect(isRetryableError(new CodedError('CONFLICT', 'x'))).toBe(false);
    expect(isRetryableError('a string')).toBe(false);
    expect(isRetryableError(undefined)).toBe(false);
  });
});

describe('Backoff', () => {
  it('stays within the policy bounds, grows, and starts over after reset', () => {
    const spec = RETRY_POLICIES.leaderStream;
    const backoff = new Backoff('leaderStream');
    const delays = Array.from({ length: 40 }, () => backoff.next());
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(spec.maxMs);
    }
    // Exponential: the late delays are far above the first ones on average.
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(delays.slice(30))).toBeGreaterThan(4 * mean(delays.slice(0, 3)));
    expect(backoff.attempts).toBe(40);
    expect(backoff.exhausted).toBe(false);
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.next()).toBeLessThanOrEqual(spec.initialMs * 4);
  });

  it('is jittered: a fleet of clients does not retry in lock-step', () => {
    const firsts = new Set(
      Array.from({ length: 20 }, () => {
        const b = new Backoff('leaderStream');
        b.next();
        return b.next();
      }),
    );
    expect(firsts.size).toBeGreaterThan(5);
  });

  it('says when a bounded policy is used up', () => {
    const backoff = new Backoff('lbIntake');
    for (let i = 0; i < RETRY_POLICIES.lbIntake.maxAttempts; i++) backoff.next();
    expect(backoff.exhausted).toBe(true);
  });
});

describe('retryPolicy', () => {
  it('retries transient failures until the call succeeds', async () => {
    let calls = 0;
    const result = await retryPolicy('zookeeper').execute(() => {
      calls++;
      if (calls < 3) throw new ZkError('CONNECTION_LOSS', '/x');
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('does not retry an answer (bad version) and rethrows it as is', async () => {
    let calls = 0;
    const failing = retryPolicy('zookeeper').execute(() => {
      calls++;
      throw new ZkError('BAD_VERSION', '/x');
    });
    await expect(failing).rejects.toMatchObject({ code: 'BAD_VERSION' });
    expect(calls).toBe(1);
  });

  it('gives up after the policy attempts', async () => {
    let calls = 0;
    const failing = retryPolicy('zookeeper').execute(() => {
      calls++;
      throw new ZkError('CONNECTION_LOSS', '/x');
    });
    await expect(failing).rejects.toMatchObject({ code: 'CONNECTION_LOSS' });
    expect(calls).toBe(RETRY_POLICIES.zookeeper.maxAttempts);
  }, 30_000);
});
