/** The request answer's bounce marker: the intent's time the leader started the bounce from. */
import { describe, expect, it } from 'vitest';
import { toRequestParent } from '../../../src/api/index.js';
import { startBounce } from '../../../src/deploys/index.js';
import type { RequestRecord } from '../../../src/state/index.js';

const record = {
  request: { id: 'web', requestType: 'SERVICE', instances: 1, agentPlacement: 'OPTIMISTIC' },
  state: 'ACTIVE',
  timestamp: 1,
} as unknown as RequestRecord;
const steps = {
  deployInstanceCountPerStep: 1,
  deployStepWaitTimeMs: 0,
  autoAdvanceDeploySteps: true,
};

describe('request answer: bounce marker', () => {
  it('is the intent time while the bounce runs and once it ended', () => {
    const base = { requestId: 'web', deployId: 'v1', instances: 1, steps, now: 9_000 };
    const running = startBounce({ ...base, replacing: ['t1'], askedAt: 7_000 });
    const during = toRequestParent(record, { active: null, pending: null }, running);
    expect(during.pendingDeployState?.deployMarker.timestamp).toBe(7_000);
    const result = { deployState: 'SUCCEEDED' as const, deployFailures: [], timestamp: 9_500 };
    const ended = { ...running, phase: 'DONE' as const, deployResult: result };
    const after = toRequestParent(record, { active: null, pending: null }, ended);
    expect(after.lastBounce?.deployMarker).toEqual({
      requestId: 'web',
      deployId: 'v1',
      timestamp: 7_000,
    });
  });

  it('is the start time for a progress written without askedAt', () => {
    const old = startBounce({
      requestId: 'web',
      deployId: 'v1',
      instances: 1,
      steps,
      now: 9_000,
      replacing: [],
    });
    const parent = toRequestParent(record, { active: null, pending: null }, old);
    expect(parent.pendingDeployState?.deployMarker.timestamp).toBe(9_000);
  });
});
