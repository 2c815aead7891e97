/**
 * The deploy bench's steps against a running {@link DeployBenchCluster}: the load-balanced
 * request and its v1 at full count behind both nginx, then deploys submitted through the API
 * and followed through the product's records until their result.
 */
import { callJson } from '../../test/harness/call-json.js';
import {
  createLbRequest,
  deployResultOf,
  demoDeployBody,
  fastChecks,
} from '../../test/harness/lb-web-deploy.js';
import { waitFor } from '../../src/dev/wait-for.js';
import type { DeployResult, Task } from '../../src/state/index.js';
import type { DeployBenchCluster } from './deploy-cluster.js';

/** The bench's request (also its load-balancer service id). */
export const REQUEST_ID = 'web';
/** The path the client asks for through nginx. */
export const SERVICE_PATH = '/web';

/**
 * A deploy of the demo service. Health checks as in the deploy tests, with a startup timeout
 * long enough for 100 Node processes starting at once on 2 loaded cores.
 */
export function deployBody(id: string, extra: Record<string, unknown> = {}): unknown {
  return demoDeployBody(REQUEST_ID, {
    id,
    healthcheck: { ...fastChecks, startupTimeoutSeconds: 300 },
    deployHealthTimeoutSeconds: 900,
    serviceBasePath: SERVICE_PATH,
    ...extra,
  });
}

/** Creates the load-balanced SERVICE request. */
export async function createRequest(c: DeployBenchCluster, instances: number): Promise<void> {
  const r = await createLbRequest(await c.anyUrl(), REQUEST_ID, instances);
  if (r.status !== 200) throw new Error(`create request: ${r.status} ${JSON.stringify(r.body)}`);
}

/** Submits a deploy; returns the bench time just before it was sent. */
export async function submitDeploy(
  c: DeployBenchCluster,
  id: string,
  extra: Record<string, unknown> = {},
): Promise<number> {
  const url = await c.anyUrl();
  const at = Date.now();
  const body = deployBody(id, { loadBalancerGroups: [c.group], ...extra });
  const r = await callJson(`${url}/api/deploys`, 'POST', body);
  if (r.status !== 200) throw new Error(`deploy ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  return at;
}

/** Waits for the deploy's result in the deploy history (the product's record of its end). */
export async function waitResult(
  c: DeployBenchCluster,
  deployId: string,
  timeoutMs = 1_800_000,
): Promise<DeployResult> {
  return waitFor(
    `the result of deploy ${deployId}`,
    async () => {
      const result = await deployResultOf(await c.anyUrl(), REQUEST_ID, deployId);
      if (result) return result;
      throw new Error('no result in the deploy history yet');
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** The upstreams (`host:port`) of the live tasks of `deployId`. */
export function upstreamsOf(tasks: readonly Task[], deployId: string): Set<string> {
  return new Set(
    tasks
      .filter((t) => t.deployId === deployId && t.state === 'TASK_RUNNING')
      .map((t) => `${t.host}:${t.ports[0]}`),
  );
}

/**
 * Waits until the service, as applied on every lb-agent, routes to exactly `instances` tasks
 * of `deployId` and nothing else; returns that record's time (when the last agent applied it).
 */
export async function waitServingExactly(
  c: DeployBenchCluster,
  deployId: string,
  instances: number,
  timeoutMs = 900_000,
): Promise<number> {
  return waitFor(
    `${instances} tasks of ${deployId}, and only those, in every nginx`,
    async () => {
      if (!c.lbStore || !c.taskStore) return undefined;
      const service = (await c.lbStore.getService(REQUEST_ID))?.value;
      const wanted = upstreamsOf(await c.taskStore.activeOf(REQUEST_ID), deployId);
      const routed = service?.upstreams.map((u) => u.upstream) ?? [];
      const ours = routed.filter((u) => wanted.has(u)).length;
      if (ours === instances && routed.length === instances) return service?.updatedAt;
      throw new Error(`routed ${routed.length}, of which ${ours} of ${deployId}`);
    },
    { timeoutMs, intervalMs: 250 },
  );
}
