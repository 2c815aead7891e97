/**
 * What `deploy --wait` and `request bounce --wait` share: the request answer they read, the
 * poll loop that prints a progress line whenever it changes, the "step k of n" text and the
 * exit code of a result. Each waiter keeps only its end condition and its own counts.
 */
import { EXIT, type ExitCode } from './exit-codes.js';

/** A deploy marker as the request answer shows it. */
export interface MarkerView {
  deployId: string;
  timestamp: number;
}

/** The deploy (or bounce) in progress, as the request answer shows it. */
export interface PendingStateView {
  kind: string;
  deployMarker: MarkerView;
  step: number;
  phase: string;
  deployProgress: {
    targetActiveInstances: number;
    currentActiveInstances: number;
    deployInstanceCountPerStep: number;
  };
}

/** The fields of the request answer (`GET /api/requests/request/{id}`) the waits read. */
export interface RequestView {
  request: { instances: number };
  activeDeploy?: { id: string };
  pendingDeploy?: { id: string };
  pendingDeployState?: PendingStateView;
  lastBounce?: {
    deployMarker: MarkerView;
    deployResult: { deployState: string; message?: string };
  };
}

/** One poll's answer: the line to show, and the wait's result once it is over. */
export interface PollStep<T> {
  line: string;
  done?: T;
}

/**
 * Calls `poll` every `pollMs` until it returns `done`, writing its line to stderr whenever
 * the line changed (the last one included).
 */
export async function pollUntil<T>(poll: () => Promise<PollStep<T>>, pollMs: number): Promise<T> {
  let last = '';
  for (;;) {
    const { line, done } = await poll();
    if (line !== last) process.stderr.write(`${line}\n`);
    last = line;
    if (done !== undefined) return done;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** `step k of n` (and ` (rolling back)`) for `instances` in the progress's steps. */
export function stepText(state: PendingStateView, instances: number): string {
  const perStep = Math.max(1, state.deployProgress.deployInstanceCountPerStep);
  const steps = Math.max(1, Math.ceil(instances / perStep));
  const phase = state.phase === 'ROLLING_BACK' ? ' (rolling back)' : '';
  return `step ${Math.min(state.step, steps)} of ${steps}${phase}`;
}

/** The exit code of an ended deploy or bounce: 0 for SUCCEEDED only (docs/deploys.md). */
export function exitCodeOf(deployState: string | undefined): ExitCode {
  return deployState === 'SUCCEEDED' ? EXIT.OK : EXIT.REFUSED;
}
