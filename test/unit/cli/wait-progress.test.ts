/**
 * The CLI waits' shared parts, and both waits against a scripted API (a fake ApiClient that
 * answers from a list: no cluster, the waits' decisions only).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../../../src/cli/api-client.js';
import { waitForBounce } from '../../../src/cli/bounce-wait.js';
import { waitForDeploy } from '../../../src/cli/deploy-wait.js';
import { EXIT } from '../../../src/cli/exit-codes.js';
import {
  type PendingStateView,
  exitCodeOf,
  pollUntil,
  stepText,
} from '../../../src/cli/wait-progress.js';

/** A fake client: each GET of a path answers the next of its scripted bodies (the last repeats). */
function scriptedClient(script: Record<string, unknown[]>): ApiClient {
  const calls = new Map<string, number>();
  return {
    call: (_method: string, path: string) => {
      const answers = script[path];
      if (!answers) return Promise.reject(new Error(`unscripted ${path}`));
      const n = calls.get(path) ?? 0;
      calls.set(path, n + 1);
      return Promise.resolve(answers[Math.min(n, answers.length - 1)]);
    },
  } as unknown as ApiClient;
}

function pending(step: number, perStep: number, phase = 'DEPLOYING'): PendingStateView {
  return {
    kind: 'DEPLOY',
    deployMarker: { deployId: 'v2', timestamp: 1 },
    step,
    phase,
    deployProgress: {
      targetActiveInstances: perStep,
      currentActiveInstances: 0,
      deployInstanceCountPerStep: perStep,
    },
  };
}

let written: string[];
beforeEach(() => {
  written = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

describe('CLI waits (scripted API, no cluster)', () => {
  it('exits 0 for SUCCEEDED only', () => {
    expect(exitCodeOf('SUCCEEDED')).toBe(EXIT.OK);
    for (const state of ['FAILED', 'CANCELED', 'OVERDUE', 'WAITING', 'UNKNOWN', undefined]) {
      expect(exitCodeOf(state), String(state)).toBe(EXIT.REFUSED);
    }
  });

  it('counts steps of the instances, capped at the last, and says when it rolls back', () => {
    expect(stepText(pending(1, 2), 5)).toBe('step 1 of 3');
    expect(stepText(pending(4, 2), 5)).toBe('step 3 of 3');
    expect(stepText(pending(2, 0, 'ROLLING_BACK'), 1)).toBe('step 1 of 1 (rolling back)');
  });

  it('prints a line only when it changed, and returns the result', async () => {
    const steps = [{ line: 'a' }, { line: 'a' }, { line: 'b' }, { line: 'c', done: 7 }];
    let n = 0;
    const result = await pollUntil(() => Promise.resolve(steps[n++]!), 0);
    expect(result).toBe(7);
    expect(written).toEqual(['a\n', 'b\n', 'c\n']);
  });

  it('a deploy that left pending without a result exits non-zero', async () => {
    const client = scriptedClient({
      '/api/requests/request/web': [
        {
          request: { instances: 2 },
          pendingDeploy: { id: 'v2' },
          pendingDeployState: pending(1, 1),
        },
        { request: { instances: 2 }, activeDeploy: { id: 'v1' } },
      ],
      '/api/tasks/active': [[]],
      '/api/history/request/web/deploy/v2': [{}],
    });
    const done = await waitForDeploy(client, 'web', 'v2', 0);
    expect(done.exitCode).toBe(EXIT.REFUSED);
    expect(written).toEqual([
      'deploy v2: step 1 of 2, healthy 0 of 2, in load balancer 0 of 2\n',
      'deploy v2: UNKNOWN\n',
    ]);
  });

  it("a bounce's wait ends with its own marker's result, not the previous bounce's", async () => {
    const at = 1_000_000;
    const previous = {
      deployMarker: { deployId: 'v1', timestamp: at - 1_000 },
      deployResult: { deployState: 'FAILED', message: 'the one before' },
    };
    const bouncing = { ...pending(1, 1), kind: 'BOUNCE' };
    const client = scriptedClient({
      '/api/requests/request/web': [
        { request: { instances: 1 }, lastBounce: previous },
        {
          request: { instances: 1 },
          pendingDeployState: { ...bouncing, deployMarker: { deployId: 'v1', timestamp: at } },
        },
        {
          request: { instances: 1 },
          lastBounce: {
            deployMarker: { deployId: 'v1', timestamp: at },
            deployResult: { deployState: 'SUCCEEDED' },
          },
        },
      ],
    });
    const done = await waitForBounce(client, 'web', at, 0);
    expect(done.exitCode).toBe(EXIT.OK);
    expect(written).toEqual([
      'bounce of web: waiting for the leader to take it up\n',
      'bounce of web: step 1 of 1, replaced 0 of 1\n',
      'bounce of web: SUCCEEDED\n',
    ]);
  });

  it('an ask folded into the bounce in progress waits for that bounce', async () => {
    const at = 1_000_000;
    const running = { ...pending(1, 1), kind: 'BOUNCE' };
    running.deployMarker = { deployId: 'v1', timestamp: at - 3_000 };
    const client = scriptedClient({
      '/api/requests/request/web': [
        { request: { instances: 1 }, pendingDeployState: running },
        {
          request: { instances: 1 },
          lastBounce: {
            deployMarker: running.deployMarker,
            deployResult: { deployState: 'CANCELED' },
          },
        },
      ],
    });
    const done = await waitForBounce(client, 'web', at, 0);
    expect(done.exitCode).toBe(EXIT.REFUSED);
    expect(written.at(-1)).toBe('bounce of web: CANCELED\n');
  });
});
