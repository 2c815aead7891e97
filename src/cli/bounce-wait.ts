/**
 * `thales request bounce ID --wait`: follows the request's bounce (its `pendingDeployState`,
 * kind BOUNCE) with a progress line on stderr whenever it changes, until the request answer
 * shows the bounce ended (`lastBounce`, with its result). The exit code says how it ended.
 */
import type { ApiClient } from './api-client.js';
import { EXIT } from './exit-codes.js';
import { type RequestView, exitCodeOf, pollUntil, stepText } from './wait-progress.js';

/** What the wait ended with: the request answer and the exit code it calls for. */
export interface BounceOutcome {
  request: unknown;
  exitCode: number;
}

/**
 * Waits until the bounce asked for at `at` has its result, printing progress to stderr. The
 * leader marks a bounce with its intent's `at`, so the wait is for that marker's result, never
 * an earlier bounce's. An ask made while another bounce was asked or running is folded into
 * that one (one intent per request): the wait then follows the bounce in progress.
 */
export async function waitForBounce(
  client: ApiClient,
  requestId: string,
  at: number,
  pollMs = 500,
): Promise<BounceOutcome> {
  const path = `/api/requests/request/${encodeURIComponent(requestId)}`;
  const name = `bounce of ${requestId}`;
  let marker = at;
  return pollUntil(async () => {
    const request = await client.call<RequestView>('GET', path);
    const state = request.pendingDeployState;
    // A bounce is refused while a deploy is pending: a deploy now came after it.
    if (state && state.kind !== 'BOUNCE') {
      const line = `${name}: superseded by deploy ${state.deployMarker.deployId}`;
      return { line, done: { request, exitCode: EXIT.REFUSED } };
    }
    if (state) {
      marker = state.deployMarker.timestamp;
      const folded = marker === at ? '' : ` (asked at ${marker}, this ask folded into it)`;
      const replaced = state.deployProgress.currentActiveInstances;
      const instances = request.request.instances;
      return {
        line: `${name}${folded}: ${stepText(state, instances)}, replaced ${replaced} of ${instances}`,
      };
    }
    const ended = request.lastBounce;
    if (ended?.deployMarker.timestamp === marker) {
      const { deployState, message } = ended.deployResult;
      const line = `${name}: ${deployState} ${message ?? ''}`.trimEnd();
      return { line, done: { request, exitCode: exitCodeOf(deployState) } };
    }
    return { line: `${name}: waiting for the leader to take it up` };
  }, pollMs);
}
