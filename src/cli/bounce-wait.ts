/**
 * `thales request bounce ID --wait`: follows the request's bounce (its `pendingDeployState`,
 * kind BOUNCE) with a progress line on stderr whenever it changes, until the request answer
 * shows the bounce ended (`lastBounce`, with its result). The exit code says how it ended.
 */
import type { ApiClient } from './api-client.js';
import { EXIT } from './exit-codes.js';

interface Marker {
  deployId: string;
  timestamp: number;
}

interface RequestView {
  request: { instances: number };
  pendingDeployState?: {
    kind: string;
    deployMarker: Marker;
    step: number;
    phase: string;
    deployProgress: { currentActiveInstances: number; deployInstanceCountPerStep: number };
  };
  lastBounce?: {
    deployMarker: Marker;
    deployResult: { deployState: string; message?: string };
  };
}

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
  let last = '';
  let seen = false;
  const say = (line: string): void => {
    if (line !== last) process.stderr.write(`${line}\n`);
    last = line;
  };
  for (;;) {
    const request = await client.call<RequestView>('GET', path);
    const state = request.pendingDeployState;
    // A bounce is refused while a deploy is pending: a deploy now came after it.
    if (state && state.kind !== 'BOUNCE') {
      say(`bounce of ${requestId}: superseded by deploy ${state.deployMarker.deployId}`);
      return { request, exitCode: EXIT.REFUSED };
    }
    if (state?.kind === 'BOUNCE') {
      seen = true;
      say(progressLine(requestId, request.request.instances, state));
    } else {
      const ended = request.lastBounce;
      if (ended && (seen || ended.deployMarker.timestamp >= at - CLOCK_SLACK_MS)) {
        const { deployState, message } = ended.deployResult;
        say(`bounce of ${requestId}: ${deployState} ${message ?? ''}`.trimEnd());
        return { request, exitCode: deployState === 'SUCCEEDED' ? EXIT.OK : EXIT.REFUSED };
      }
      say(`bounce of ${requestId}: waiting for the leader to take it up`);
    }
    await new Promise((done) => setTimeout(done, pollMs));
  }
}

function progressLine(
  requestId: string,
  instances: number,
  state: NonNullable<RequestView['pendingDeployState']>,
): string {
  const perStep = Math.max(1, state.deployProgress.deployInstanceCountPerStep);
  const steps = Math.max(1, Math.ceil(instances / perStep));
  const phase = state.phase === 'ROLLING_BACK' ? ' (rolling back)' : '';
  return (
    `bounce of ${requestId}: step ${Math.min(state.step, steps)} of ${steps}${phase}, ` +
    `replaced ${state.deployProgress.currentActiveInstances} of ${instances}`
  );
}
