/**
 * The workload's set-up, before any fault: every long-lived request created and deployed
 * (recorded like any other write: they are acknowledged writes the final state must hold),
 * `web` running and routed through nginx.
 */
import { waitFor } from '../../../../src/dev/wait-for.js';
import type { Rng } from '../rng.js';
import { call } from './api-client.js';
import type { WorkloadContext } from './context.js';
import type { LbRouting } from './lb-router.js';
import { REQUESTS, WEB_SERVICE, deployBody } from './spec.js';
import type { DeploySerials } from './writers.js';

const INITIAL: Record<string, number> = { web: 2, hostile_target: 0, big0: 1 };

/**
 * Creates and deploys the requests, starts the load-balancer routing, and waits until they
 * run and `web` answers through nginx. Returns the routing loop (it runs until the workload
 * stops).
 */
export async function setUpWorkload(
  ctx: WorkloadContext,
  rng: Rng,
  serials: DeploySerials,
  routing: LbRouting,
): Promise<{ routingLoop: Promise<void> }> {
  for (const spec of REQUESTS) {
    const instances = INITIAL[spec.id] ?? 1;
    await mustSucceed(ctx, rng, 'create', spec.id, instances, 'POST', '/api/requests', {
      id: spec.id,
      requestType: 'SERVICE',
      instances,
    });
    const { deployId, serial } = serials.take();
    await mustSucceed(
      ctx,
      rng,
      'deploy',
      spec.id,
      deployId,
      'POST',
      '/api/deploys',
      deployBody(spec, deployId, serial),
    );
  }
  await waitFor(
    'every set-up deploy active',
    async () => {
      for (const spec of REQUESTS) {
        const a = await call(`${ctx.replica(rng).url}/api/requests/request/${spec.id}`, 'GET');
        const b = a.body as { activeDeploy?: unknown; pendingDeploy?: unknown } | undefined;
        if (!b?.activeDeploy || b.pendingDeploy) return undefined;
      }
      return true;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  const routingLoop = routing.run();
  await waitFor(
    `${WEB_SERVICE.serviceId} answering through nginx`,
    async () => {
      const res = await fetch(`${ctx.nginxUrl}${WEB_SERVICE.basePath}`, {
        signal: AbortSignal.timeout(2_000),
      });
      return res.status === 200 || undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  return { routingLoop };
}

async function mustSucceed(
  ctx: WorkloadContext,
  rng: Rng,
  kind: 'create' | 'deploy',
  requestId: string,
  value: unknown,
  method: string,
  path: string,
  body: unknown,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const { op } = await ctx.apiOp(
      rng,
      { process: 'setup', kind, requestId, value },
      method,
      path,
      body,
    );
    if (op.outcome === 'ok') return;
    // A retry of a write whose first try landed after all: the deploy id is taken by it.
    if (attempt > 1 && op.status === 409 && /already exists/.test(op.error ?? '')) return;
    if (attempt >= 5)
      throw new Error(`set-up ${kind} of ${requestId} failed: ${op.status} ${op.error}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}
