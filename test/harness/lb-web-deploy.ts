/**
 * The load-balanced demo request's bodies and lookups shared by the deploy tests
 * (lb-deploys.ts) and the deploy bench (bench/deploy): free of vitest, so the bench can use
 * them outside a test run. Callers decide what a bad answer means (an expect, a throw).
 */
import path from 'node:path';
import { repoRoot } from '../../src/dev/index.js';
import type { DeployResult } from '../../src/state/index.js';
import { callJson } from './call-json.js';

/** Health checks that pass within a second or two of the demo service listening. */
export const fastChecks = {
  uri: '/health',
  startupIntervalSeconds: 1,
  startupTimeoutSeconds: 30,
  intervalSeconds: 1,
  responseTimeoutSeconds: 2,
};

/** The demo service's path. */
export function demoServicePath(): string {
  return path.join(repoRoot(), 'examples', 'demo-service.mjs');
}

/**
 * The body of a deploy of the demo service for `requestId`, served under `/<requestId>` with
 * {@link fastChecks}; `deploy` adds or overrides fields (its id, groups, steps…).
 */
export function demoDeployBody(requestId: string, deploy: Record<string, unknown>): unknown {
  return {
    deploy: {
      requestId,
      command: process.execPath,
      arguments: [demoServicePath()],
      resources: { cpus: 0.1, memoryMb: 32, numPorts: 1 },
      healthcheck: fastChecks,
      serviceBasePath: `/${requestId}`,
      ...deploy,
    },
  };
}

/** Creates a load-balanced SERVICE request; returns the API's answer. */
export function createLbRequest(
  url: string,
  requestId: string,
  instances: number,
): ReturnType<typeof callJson> {
  return callJson(`${url}/api/requests`, 'POST', {
    id: requestId,
    requestType: 'SERVICE',
    instances,
    loadBalanced: true,
  });
}

/** The deploy's result from the deploy history, or undefined while it has none. */
export async function deployResultOf(
  url: string,
  requestId: string,
  deployId: string,
): Promise<DeployResult | undefined> {
  const h = await callJson(`${url}/api/history/request/${requestId}/deploy/${deployId}`, 'GET');
  const result = (h.body as { deployResult?: DeployResult } | undefined)?.deployResult;
  return h.status === 200 && result ? result : undefined;
}
