/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are checked field by field */
import { describe, expect, it } from 'vitest';
import { useZooKeeper, waitFor, type TestCluster } from '../harness/index.js';
import { startWebOnV1, waitServedBy } from '../harness/lb-deploys.js';
import { startTraffic } from '../harness/lb-traffic.js';
import { activeTasks, anyUrl, callJson, shortAgentGraces } from '../harness/tasks-cluster.js';

// Real ZooKeeper, real replicas, two real agents, two real lb-agents each with its own nginx.
const zk = useZooKeeper();
shortAgentGraces();

/** Waits until `web` runs exactly `n` tasks, none of them in `gone`; says what it last saw. */
async function waitWebRunning(cluster: TestCluster, n: number, gone: string[] = []) {
  return waitFor(
    `web at ${n} running without ${gone.join(', ')}`,
    async () => {
      const web = (await activeTasks(cluster)).filter((t) => t.requestId === 'web');
      const ok = web.length === n && web.every((t) => t.state === 'TASK_RUNNING');
      if (ok && !web.some((t) => gone.includes(t.id))) return web;
      throw new Error(web.map((t) => `${t.id} ${t.state}`).join(', '));
    },
    { timeoutMs: 90_000 },
  );
}

/** Waits until web's stored service upstreams are exactly those of its running tasks. */
async function waitAllInLb(cluster: TestCluster, n: number) {
  return waitFor(
    `web's ${n} running tasks all in the load balancer`,
    async () => {
      const web = await waitWebRunning(cluster, n);
      const r = await callJson(`${anyUrl(cluster)}/api/lb/services/web`, 'GET');
      const stored = ((r.body as any).upstreams ?? []).map((u: any) => u.upstream).sort();
      const want = web.map((t) => `127.0.0.1:${t.ports[0]}`).sort();
      if (JSON.stringify(stored) === JSON.stringify(want)) return web;
      throw new Error(`stored ${stored.join(', ')}; tasks ${want.join(', ')}`);
    },
    { timeoutMs: 90_000 },
  );
}

/**
 * Invariant 5 for one ended task: a load-balancer request that removed its upstream
 * succeeded (on every lb-agent) no later than the agent reported the task killed.
 */
function expectRemovedBeforeKilled(task: any, lbRequests: any[]): void {
  const upstream = `${task.host}:${task.ports[0]}`;
  const killedAt = task.updates.find((u: any) => u.state === 'TASK_KILLED')?.at;
  expect(killedAt, `${task.id} was killed`).toBeTypeOf('number');
  const removals = lbRequests.filter(
    (r) =>
      r.state === 'SUCCESS' && r.request.removeUpstreams.some((u: any) => u.upstream === upstream),
  );
  expect(removals.length, `a request removed ${upstream}`).toBeGreaterThan(0);
  expect(Math.min(...removals.map((r) => r.updatedAt))).toBeLessThanOrEqual(killedAt);
}

describe('the load balancer follows the tasks (real agents, ZooKeeper, nginx lb-agents)', () => {
  it('unhealthy replacement, scale down and an API kill: each out of nginx before killed, 0 failed requests', async () => {
    const { cluster, lb, url } = await startWebOnV1(zk());
    const traffic = startTraffic(
      lb.agents.map((a) => a.nginxPort),
      '/web/hello',
    );

    // Unhealthy: out of the load balancer, killed, replaced.
    const [sick] = await waitAllInLb(cluster, 4);
    const fail = await fetch(`http://127.0.0.1:${sick!.ports[0]}/health/fail`, { method: 'POST' });
    expect(fail.status).toBe(200);
    await waitWebRunning(cluster, 4, [sick!.id]);

    // Scale down: two tasks leave nginx, then end.
    const before = await waitAllInLb(cluster, 4);
    const scaled = await callJson(`${url}/api/requests/request/web/scale`, 'PUT', { instances: 2 });
    expect(scaled.status, JSON.stringify(scaled.body)).toBe(200);
    await waitWebRunning(cluster, 2);
    const kept = await waitAllInLb(cluster, 2);
    const scaledAway = before.filter((t) => !kept.some((k) => k.id === t.id)).map((t) => t.id);

    // A kill through the API: out of nginx, killed, replaced.
    const victim = kept[0]!;
    const killed = await callJson(`${url}/api/tasks/task/${victim.id}`, 'DELETE');
    expect(killed.status).toBe(202);
    await waitWebRunning(cluster, 2, [victim.id]);
    await waitServedBy(lb, 'v1', 2);

    await traffic.stop();
    expect(traffic.failures()).toEqual([]);

    const history = await callJson(`${url}/api/history/request/web/tasks`, 'GET');
    const ended = history.body as any[];
    const zkc = await cluster.coordinator();
    const names = await zkc.children('/lb/requests');
    const lbRequests = await Promise.all(
      names.map(async (n) => JSON.parse((await zkc.get(`/lb/requests/${n}`)).data.toString())),
    );
    for (const id of [sick!.id, ...scaledAway, victim.id]) {
      const task = ended.find((t) => t.id === id);
      expect(task, `${id} in history`).toBeDefined();
      expectRemovedBeforeKilled(task, lbRequests);
    }
    // It was killed for being unhealthy, not for anything else.
    expect(ended.find((t) => t.id === sick!.id).health.status).toBe('UNHEALTHY');
  }, 300_000);
});
