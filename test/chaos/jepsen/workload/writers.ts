/**
 * The clients that change desired state: writers on the long-lived requests (scale, upsert,
 * pause, unpause, deploy, kill), the `web` client (scale and kill, through the load-balancer
 * routing), and the ephemeral client (create, then delete, short-lived requests). Every call
 * goes to a replica picked at random: any replica accepts writes.
 */
import type { Rng } from '../rng.js';
import type { WorkloadContext } from './context.js';
import type { LbRouting } from './lb-router.js';
import { EPHEMERAL_RESOURCES, REQUESTS, type RequestSpec, deployBody } from './spec.js';

/** Deploy serials shared by every client, so deploy ids never repeat within a run. */
export class DeploySerials {
  private next = 100;

  /** A fresh deploy id and its serial. */
  take(): { deployId: string; serial: number } {
    const serial = this.next++;
    return { deployId: `d${serial}`, serial };
  }
}

type WriterOp = 'scale' | 'upsert' | 'pause' | 'unpause' | 'deploy' | 'kill';
const WEIGHTS: Record<WriterOp, number> = {
  scale: 34,
  upsert: 8,
  pause: 9,
  unpause: 14,
  deploy: 15,
  kill: 20,
};

/** A writer on the plain long-lived requests, until the workload stops. */
export async function runWriter(
  ctx: WorkloadContext,
  name: string,
  rng: Rng,
  serials: DeploySerials,
): Promise<void> {
  const specs = REQUESTS.filter((s) => s.role === 'plain');
  while (!ctx.stopped) {
    const spec = rng.pick(specs);
    await writerOp(ctx, name, rng, spec, rng.weighted(WEIGHTS), serials);
    await ctx.sleep(rng.int(150, 900));
  }
}

async function writerOp(
  ctx: WorkloadContext,
  process: string,
  rng: Rng,
  spec: RequestSpec,
  kind: WriterOp,
  serials: DeploySerials,
): Promise<void> {
  const rid = spec.id;
  const base = `/api/requests/request/${rid}`;
  switch (kind) {
    case 'scale': {
      const n = rng.int(spec.minInstances, spec.maxInstances);
      await ctx.apiOp(rng, { process, kind, requestId: rid, value: n }, 'PUT', `${base}/scale`, {
        instances: n,
      });
      return;
    }
    case 'upsert': {
      const n = rng.int(spec.minInstances, spec.maxInstances);
      await ctx.apiOp(rng, { process, kind, requestId: rid, value: n }, 'POST', '/api/requests', {
        id: rid,
        requestType: 'SERVICE',
        instances: n,
      });
      return;
    }
    case 'pause':
    case 'unpause':
      await ctx.apiOp(rng, { process, kind, requestId: rid }, 'POST', `${base}/${kind}`);
      return;
    case 'deploy': {
      const { deployId, serial } = serials.take();
      const body = deployBody(spec, deployId, serial);
      await ctx.apiOp(
        rng,
        { process, kind, requestId: rid, value: deployId },
        'POST',
        '/api/deploys',
        body,
      );
      return;
    }
    case 'kill': {
      const tasks = (await ctx.readTasks(rng, process))?.filter((t) => t.requestId === rid);
      if (!tasks || tasks.length === 0) return;
      const task = rng.pick(tasks);
      await killTask(ctx, process, rng, rid, task.id);
      return;
    }
  }
}

async function killTask(
  ctx: WorkloadContext,
  process: string,
  rng: Rng,
  requestId: string,
  taskId: string,
): Promise<boolean> {
  const { op } = await ctx.apiOp(
    rng,
    { process, kind: 'kill', requestId, value: taskId },
    'DELETE',
    `/api/tasks/task/${taskId}`,
  );
  return op.outcome !== 'fail';
}

/**
 * The `web` client: scales between its bounds and kills tasks, each time taking the tasks to
 * be killed out of the load balancer first (scale-down kills the highest instance numbers).
 */
export async function runWebClient(
  ctx: WorkloadContext,
  rng: Rng,
  routing: LbRouting,
  process = 'web-client',
): Promise<void> {
  const spec = REQUESTS.find((s) => s.role === 'web') as RequestSpec;
  while (!ctx.stopped) {
    await ctx.sleep(rng.int(1_500, 4_000));
    if (ctx.stopped) return;
    const tasks = (await ctx.readTasks(rng, process))?.filter((t) => t.requestId === spec.id);
    if (!tasks) continue;
    if (rng.chance(0.6)) {
      const n = rng.int(spec.minInstances, spec.maxInstances);
      if (!(await routing.beforeScale(n))) {
        routing.afterScale(n, 'fail');
        continue;
      }
      const { op } = await ctx.apiOp(
        rng,
        { process, kind: 'scale', requestId: spec.id, value: n },
        'PUT',
        `/api/requests/request/${spec.id}/scale`,
        { instances: n },
      );
      routing.afterScale(n, op.outcome);
    } else if (tasks.length > spec.minInstances) {
      const victim = rng.pick(tasks);
      if (!(await routing.beforeKill([victim]))) continue;
      if (!(await killTask(ctx, process, rng, spec.id, victim.id))) {
        routing.killAbandoned();
      }
    }
  }
}

/** Creates a short-lived request (1 instance, deployed), waits a little, deletes it; repeats. */
export async function runEphemeralClient(
  ctx: WorkloadContext,
  rng: Rng,
  serials: DeploySerials,
  process = 'ephemeral',
): Promise<void> {
  const spec: RequestSpec = {
    id: '',
    role: 'plain',
    minInstances: 1,
    maxInstances: 1,
    resources: EPHEMERAL_RESOURCES,
  };
  for (let k = 1; !ctx.stopped; k++) {
    const rid = `tmp${k}`;
    const created = await ctx.apiOp(
      rng,
      { process, kind: 'create', requestId: rid, value: 1 },
      'POST',
      '/api/requests',
      { id: rid, requestType: 'SERVICE', instances: 1 },
    );
    if (created.op.outcome !== 'fail') {
      const { deployId, serial } = serials.take();
      await ctx.apiOp(
        rng,
        { process, kind: 'deploy', requestId: rid, value: deployId },
        'POST',
        '/api/deploys',
        deployBody({ ...spec, id: rid }, deployId, serial),
      );
      await ctx.sleep(rng.int(2_000, 6_000));
      await ctx.apiOp(
        rng,
        { process, kind: 'delete', requestId: rid },
        'DELETE',
        `/api/requests/request/${rid}`,
      );
    }
    await ctx.sleep(rng.int(500, 2_000));
  }
}
