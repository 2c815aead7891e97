/**
 * Read clients: one per replica (state, a request, the active tasks — every replica serves
 * reads), and one sending requests through nginx, recording which upstreams nginx tried
 * (`X-Thales-Upstream`, from `$upstream_addr`) and which task answered.
 */
import type { Rng } from '../rng.js';
import { call } from './api-client.js';
import type { WorkloadContext } from './context.js';
import { REQUESTS, WEB_SERVICE } from './spec.js';

/** What an answer through nginx tells the routing check. */
export interface NginxResult {
  /** Every upstream nginx tried for this request, in order. */
  upstreams: string[];
  /** The task that answered (the demo service names itself). */
  taskId?: string;
}

/** Reads from one replica until the workload stops. */
export async function runReader(
  ctx: WorkloadContext,
  replica: { id: string; url: string },
  rng: Rng,
): Promise<void> {
  const process = `reader-${replica.id}`;
  const ids = REQUESTS.map((r) => r.id);
  while (!ctx.stopped) {
    const what = rng.weighted({ 'read-state': 1, 'read-request': 3, 'read-tasks': 1 });
    const requestId = what === 'read-request' ? rng.pick(ids) : undefined;
    const path =
      what === 'read-state'
        ? '/api/state'
        : what === 'read-tasks'
          ? '/api/tasks/active'
          : `/api/requests/request/${requestId}`;
    await ctx.history.run(
      { process, kind: what, target: replica.id, ...(requestId ? { requestId } : {}) },
      async () => {
        const a = await call(`${replica.url}${path}`, 'GET', undefined, 3_000);
        const result = a.outcome === 'ok' ? summarizeRead(what, a.body) : undefined;
        return {
          outcome: a.outcome,
          ...(a.status === undefined ? {} : { status: a.status }),
          ...(a.error === undefined ? {} : { error: a.error }),
          ...(result === undefined ? {} : { result }),
        };
      },
    );
    await ctx.sleep(rng.int(200, 600));
  }
}

/** The part of a read the checker uses: a request's instances/state/deploys, a leader's term. */
function summarizeRead(what: string, body: unknown): unknown {
  if (what === 'read-request') {
    const b = body as {
      request?: { instances?: number };
      state?: string;
      activeDeploy?: { id: string };
      pendingDeploy?: { id: string };
    };
    return {
      instances: b.request?.instances,
      state: b.state,
      activeDeploy: b.activeDeploy?.id,
      pendingDeploy: b.pendingDeploy?.id,
    };
  }
  if (what === 'read-state') {
    const b = body as { role?: string; term?: number; leader?: { replicaId?: string } | null };
    return { role: b.role, term: b.term, leader: b.leader?.replicaId };
  }
  return (body as unknown[]).length;
}

/** Sends requests through nginx to `web` until the workload stops. */
export async function runNginxClient(ctx: WorkloadContext, rng: Rng): Promise<void> {
  const url = `${ctx.nginxUrl}${WEB_SERVICE.basePath}`;
  while (!ctx.stopped) {
    await ctx.history.run({ process: 'nginx-client', kind: 'nginx', target: 'nginx' }, async () => {
      let res: Response;
      try {
        res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
      } catch (err) {
        return { outcome: 'info', error: String(err) };
      }
      const header = res.headers.get('x-thales-upstream') ?? '';
      const text = await res.text().catch(() => '');
      const result: NginxResult = {
        upstreams: header
          .split(/[,:]\s+|,\s*/)
          .map((s) => s.trim())
          .filter((s) => /^[\d.]+:\d+$/.test(s)),
      };
      try {
        const taskId = (JSON.parse(text) as { taskId?: string }).taskId;
        if (taskId) result.taskId = taskId;
      } catch {
        // an nginx error page
      }
      return { outcome: res.status === 200 ? 'ok' : 'fail', status: res.status, result };
    });
    await ctx.sleep(rng.int(100, 300));
  }
}
