/**
 * `thales request bounce ID --wait`: follows the request's bounce (its `pendingDeployState`,
 * kind BOUNCE) with a progress line on stderr whenever it changes, until the request answer
 * shows the bounce ended (`lastBounce`, with its result). The exit code says how it ended.
 */
import type { ApiClient } from './api-client.js';
import { EXIT } from './exit-codes.js';
import { type RequestView, exitCodeOf, pollUntil, stepText } from './wait-progress.js';

/**
 * How far the bounce's start may precede the intent's time and still be this bounce: the
 * intent's time is the answering replica's clock, the bounce's start the leader's.
 */
const CLOCK_SLACK_MS = 5_000;

/** What the wait ended with: the request answer and the exit code it calls for. */
export interface BounceOutcome {
  request: unknown;
  exitCode: number;
}

/** Waits until the bounce asked for at `at` has its result, printing progress to stderr. */
export async function waitForBounce(
  client: ApiClient,
  requestId: string,
  at: number,
  pollMs = 500,
): Promise<BounceOutcome> {
  const path = `/api/requests/request/${encodeURIComponent(requestId)}`;
  const name = `bounce of ${requestId}`;
  let seen = false;
  return pollUntil(async () => {
    const request = await client.call<RequestView>('GET', path);
    const state = request.pendingDeployState;
    // A bounce is refused while a deploy is pending: a deploy now came after it.
    if (state && state.kind !== 'BOUNCE') {
      const line = `${name}: superseded by deploy ${state.deployMarker.deployId}`;
      return { line, done: { request, exitCode: EXIT.REFUSED } };
    }
    if (state) {
      seen = true;
      const replaced = state.deployProgress.currentActiveInstances;
      const instances = request.request.instances;
      return {
        line: `${name}: ${stepText(state, instances)}, replaced ${replaced} of ${instances}`,
      };
    }
    const ended = request.lastBounce;
    if (ended && (seen || ended.deployMarker.timestamp >= at - CLOCK_SLACK_MS)) {
      const { deployState, message } = ended.deployResult;
      const line = `${name}: ${deployState} ${message ?? ''}`.trimEnd();
      return { line, done: { request, exitCode: exitCodeOf(deployState) } };
    }
    return { line: `${name}: waiting for the leader to take it up` };
  }, pollMs);
}
