import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ZkError } from '../../../src/coordination/index.js';
import type { LbRequestRecord } from '../../../src/lb/index.js';
import { LbRequestIntake } from '../../../src/lb/lb-request-intake.js';
import type { LbRequestStore, Versioned } from '../../../src/lb/lb-request-store.js';
import { RETRY_POLICIES } from '../../../src/runtime/index.js';

function record(requestId: string, state: LbRequestRecord['state']): Versioned<LbRequestRecord> {
  const value = {
    requestId,
    request: { requestId, service: { serviceId: 'web' } },
    state,
    step: 'QUEUED',
    agents: [],
    submittedAt: 1,
    updatedAt: 1,
  } as unknown as LbRequestRecord;
  return { value, version: 0 };
}

/**
 * A FAKE store behind the intake's one dependency (`getRequest`): it fails while `failing`
 * holds an error and counts the reads. Pure unit test: no ZooKeeper.
 */
function fakeStore(stored: Versioned<LbRequestRecord>) {
  const store = {
    reads: 0,
    failing: undefined as Error | undefined,
    getRequest(): Promise<Versioned<LbRequestRecord> | null> {
      store.reads++;
      return store.failing ? Promise.reject(store.failing) : Promise.resolve(stored);
    },
  };
  return store;
}

function intake(store: ReturnType<typeof fakeStore>) {
  const queued: string[] = [];
  const i = new LbRequestIntake(store as unknown as LbRequestStore, pino({ level: 'silent' }), {
    isLeading: () => true,
    onQueued: () => queued.push('queued'),
    onCanceling: () => undefined,
  });
  return { i, queued };
}

const queuedIds = (i: LbRequestIntake) =>
  [...i.queues.values()].flat().map((r) => r.value.requestId);

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

describe('LbRequestIntake.retryLater (fake store)', () => {
  it('reads the request again with back-off and queues it once a read succeeds', async () => {
    const store = fakeStore(record('r1', 'WAITING'));
    const { i, queued } = intake(store);
    store.failing = new ZkError('CONNECTION_LOSS', '/lb/requests/r1');
    i.retryLater('r1');
    i.retryLater('r1'); // one retry loop per request
    await vi.advanceTimersByTimeAsync(RETRY_POLICIES.lbIntake.maxMs * 2);
    expect(store.reads).toBeGreaterThanOrEqual(2);
    expect(queuedIds(i)).toEqual([]);
    store.failing = undefined;
    await vi.advanceTimersByTimeAsync(RETRY_POLICIES.lbIntake.maxMs);
    expect(queuedIds(i)).toEqual(['r1']);
    expect(queued).toEqual(['queued']);
    const reads = store.reads;
    await vi.advanceTimersByTimeAsync(RETRY_POLICIES.lbIntake.maxMs * 3);
    expect(store.reads).toBe(reads);
  });

  it('gives up after the policy, and the next trigger reads the request again', async () => {
    const store = fakeStore(record('r2', 'WAITING'));
    const { i } = intake(store);
    store.failing = new ZkError('CONNECTION_LOSS', '/lb/requests/r2');
    await i.onNames(['r2']);
    await vi.advanceTimersByTimeAsync(RETRY_POLICIES.lbIntake.maxMs * 20);
    expect(store.reads).toBe(1 + RETRY_POLICIES.lbIntake.maxAttempts);
    await vi.advanceTimersByTimeAsync(RETRY_POLICIES.lbIntake.maxMs * 20);
    expect(store.reads).toBe(1 + RETRY_POLICIES.lbIntake.maxAttempts);
    // Still in ZooKeeper: a later change of /lb/requests lists it, and it is read again.
    store.failing = undefined;
    await i.onNames(['r2', 'r3']);
    expect(queuedIds(i)).toContain('r2');
  });

  it('gives up at once on an error retrying cannot fix', async () => {
    const store = fakeStore(record('r4', 'WAITING'));
    const { i } = intake(store);
    store.failing = new Error('not JSON');
    i.retryLater('r4');
    await vi.advanceTimersByTimeAsync(RETRY_POLICIES.lbIntake.maxMs * 20);
    expect(store.reads).toBe(1);
  });

  it('leaves a finished request alone', async () => {
    const store = fakeStore(record('r5', 'SUCCESS'));
    const { i, queued } = intake(store);
    i.retryLater('r5');
    await vi.advanceTimersByTimeAsync(RETRY_POLICIES.lbIntake.maxMs);
    expect(queuedIds(i)).toEqual([]);
    expect(queued).toEqual([]);
  });
});
