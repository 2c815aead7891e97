/**
 * `thales deploy --file` and `--wait`: Singularity's deploy JSON read as is, and the wait for
 * a deploy's one result with its progress on stderr (step k of n, healthy x of y, in the load
 * balancer z of y). The exit code says how it ended.
 */
import { readFileSync } from 'node:fs';
import type { ApiClient } from './api-client.js';
import { CliError, EXIT } from './exit-codes.js';
import { type RequestView, exitCodeOf, pollUntil, stepText } from './wait-progress.js';

/** Reads a deploy file: Singularity's `{"deploy": {…}, "message"?: …}` or a bare deploy. */
export function readDeployFile(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`--file ${file}: ${(err as Error).message}`, EXIT.USAGE, { cause: err });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliError(`--file ${file}: expected a JSON object`, EXIT.USAGE);
  }
  const body = parsed as Record<string, unknown>;
  return 'deploy' in body ? body : { deploy: body };
}

interface TaskView {
  requestId: string;
  deployId: string;
  state: string;
  health?: { status: string };
}

interface DeployView {
  deployResult?: { deployState: string; message: string };
}

/**
 * Waits until the deploy has its result, printing a progress line to stderr whenever it
 * changes; returns the deploy (with its result) and the exit code it calls for.
 */
export async function waitForDeploy(
  client: ApiClient,
  requestId: string,
  deployId: string,
  pollMs = 500,
): Promise<{ deploy: unknown; exitCode: number }> {
  const rid = encodeURIComponent(requestId);
  const did = encodeURIComponent(deployId);
  return pollUntil(async () => {
    const request = await client.call<RequestView>('GET', `/api/requests/request/${rid}`);
    // Ended once it is no longer the pending deploy: its result is in the history.
    if (request.pendingDeploy?.id !== deployId) {
      const deploy = await client.call<DeployView>(
        'GET',
        `/api/history/request/${rid}/deploy/${did}`,
      );
      const result = deploy.deployResult;
      const line = `deploy ${deployId}: ${result?.deployState ?? 'UNKNOWN'} ${result?.message ?? ''}`;
      return {
        line: line.trimEnd(),
        done: { deploy, exitCode: exitCodeOf(result?.deployState) },
      };
    }
    return { line: await progressLine(client, request, requestId, deployId) };
  }, pollMs);
}

async function progressLine(
  client: ApiClient,
  request: RequestView,
  requestId: string,
  deployId: string,
): Promise<string> {
  const state = request.pendingDeployState;
  if (!state) return `deploy ${deployId}: waiting for the leader to take it up`;
  const y = request.request.instances;
  const tasks = await client.call<TaskView[]>('GET', '/api/tasks/active');
  const healthy = tasks.filter(
    (t) =>
      t.requestId === requestId &&
      t.deployId === deployId &&
      t.state === 'TASK_RUNNING' &&
      t.health?.status === 'HEALTHY',
  ).length;
  return (
    `deploy ${deployId}: ${stepText(state, y)}, ` +
    `healthy ${healthy} of ${y}, in load balancer ${state.deployProgress.currentActiveInstances} of ${y}`
  );
}
